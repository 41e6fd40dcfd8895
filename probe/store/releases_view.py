"""The `releases` view: a row for each release run (a run whose manifest names the `scenario` it ran), with the
version asked for and the figures its report gives, read from the views that already hold them."""

from probe.store.identity_columns import RUN_IDENTITY

# A manifest's field as text where it is a non-empty JSON string, else NULL: a manifest may come from anyone, and a
# number or an object there names no scenario and no version.
MANIFEST_TEXT = "CASE WHEN json_type({value}) = 'VARCHAR' THEN nullif({value}->>'$', '') END"
SCENARIO = MANIFEST_TEXT.format(value="m.scenario")
REQUESTED_VERSION = MANIFEST_TEXT.format(value="m.agent->'requested_version'")

# The figures are the report's: its model requests as its Agents section counts them (the agents' requests, summed;
# a run no agent is recorded for made the requests its turns.jsonl holds, none for one that ended before any), its
# tokens (the agents' own totals, summed: NULL where no turn reported the kind, the report's "not reported"), its
# cost, its wall time (the time view's row of the run, where the run had any interval to time) and the main agent's
# main model (the one whose turns carried the most input).
RELEASES = f"""
    SELECT r.run, s.scenario, coalesce(s.requested_version, r.agent_version) AS version, r.status,
           coalesce(a.requests, r.exchanges) AS requests, a.input_tokens, a.output_tokens, a.cache_read_tokens,
           a.cache_write_tokens, r.cost_usd, r.cost_unknown_turns, w.wall_s, r.window_model AS model,
           {RUN_IDENTITY}
    FROM (SELECT m.folder, {SCENARIO} AS scenario, {REQUESTED_VERSION} AS requested_version
          FROM manifest_files m) s
    JOIN run_folders f ON f.folder = s.folder
    JOIN runs r ON r.run_id = f.run_id
    LEFT JOIN (SELECT run_id, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
                      sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens,
                      sum(cache_write_tokens) AS cache_write_tokens
               FROM agents GROUP BY run_id) a ON a.run_id = f.run_id
    LEFT JOIN (SELECT run_id, max(wall_s) FILTER (WHERE spans > 0) AS wall_s FROM time
               WHERE agent IS NULL GROUP BY run_id) w ON w.run_id = f.run_id
    WHERE s.scenario IS NOT NULL"""
