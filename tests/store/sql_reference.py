"""The SQL views as they were defined before they were made to grow linearly with the data: the slow path that the
views' rows are compared with on small runs (tests/store/test_sql_views.py). Each unnested value carried its whole
line here, so these definitions must only read small runs."""

# (the insight's window and cache columns, and the run's identity, are read as the views read them: what is compared
# is how turns are read)
from probe.store.views import AGENT_WINDOW, MAIN_PEAKS, RUN_IDENTITY, RUN_WINDOW, RUNS_IDENTITY, TURN_WINDOW

# turn_values and turn_lines, as probe.store.files defined them.
TURN_VALUES = """
    SELECT folder, TRY_CAST(new->>'from' AS BIGINT) + v.position - 1 AS number, v.value
    FROM turn_files, unnest(CAST(json_extract(new, '$.values') AS JSON[])) WITH ORDINALITY AS v(value, position)
    WHERE schema = 2 AND new IS NOT NULL"""
WHOLE_LINES = """
    WITH lines AS (SELECT * FROM turn_files WHERE number IS NOT NULL),
    named AS (
        SELECT l.folder, l.number, f.field, n.value_number, n.position
        FROM lines l, (VALUES ('system'), ('tools'), ('output')) f(field),
             unnest(flatten(list_transform(TRY_CAST(CASE f.field WHEN 'system' THEN l.system WHEN 'tools' THEN l.tools
                                                    ELSE l.output END AS BIGINT[][]),
                                           lambda run: range(run[1], run[1] + run[2]))))
             WITH ORDINALITY AS n(value_number, position)
        WHERE l.schema = 2),
    whole AS (
        SELECT n.folder, n.number, n.field, to_json(list(v.value ORDER BY n.position)) AS value
        FROM named n JOIN turn_values v ON v.folder = n.folder AND v.number = n.value_number
        GROUP BY n.folder, n.number, n.field)
    SELECT l.* REPLACE (
        CASE WHEN l.schema = 2 THEN coalesce(s.value, CAST('[]' AS JSON)) ELSE l.system END AS system,
        CASE WHEN l.schema = 2 THEN coalesce(t.value, CAST('[]' AS JSON)) ELSE l.tools END AS tools,
        CASE WHEN l.schema = 2 THEN coalesce(o.value, CAST('[]' AS JSON)) ELSE l.output END AS output)
    FROM lines l
    LEFT JOIN whole s ON s.folder = l.folder AND s.number = l.number AND s.field = 'system'
    LEFT JOIN whole t ON t.folder = l.folder AND t.number = l.number AND t.field = 'tools'
    LEFT JOIN whole o ON o.folder = l.folder AND o.number = l.number AND o.field = 'output'"""

# The documented views, as probe.analysis.sql defined them.
VIEWS = {
    "runs": f"""
        SELECT f.run, f.target, timezone('UTC', TRY_STRPTIME(m.started_at, '%Y-%m-%dT%H:%M:%S%z')) AS started,
               m.status, f.agent_version, coalesce(t.exchanges, 0) AS exchanges,
               m.agent_exit_code AS exit_code, m.label, m.prompt,
               TRY_CAST(c.cost->>'usd' AS DECIMAL(18, 8)) AS cost_usd,
               TRY_CAST(c.cost->>'unknown_turns' AS BIGINT) AS cost_unknown_turns, c.cost->>'prices' AS prices,
               {RUN_WINDOW}, p.peak_window_share,
               {RUNS_IDENTITY}
        FROM run_folders f
        LEFT JOIN manifest_files m ON m.folder = f.folder
        LEFT JOIN {MAIN_PEAKS} p ON p.folder = f.folder
        LEFT JOIN (SELECT folder, cost, cache, "window" FROM insight_lines WHERE record = 'run') c
               ON c.folder = f.folder
        LEFT JOIN (SELECT folder, count(*) AS exchanges FROM turn_lines GROUP BY folder) t ON t.folder = f.folder""",
    "exchanges": f"""
        SELECT f.run, l.number AS n, l.kind, l.proxy, l.method, l.path, l.status,
               TRY_CAST(l.timing->>'ttfb_ms' AS DOUBLE) AS ttfb_ms,
               TRY_CAST(l.timing->>'duration_ms' AS DOUBLE) AS duration_ms,
               l.request_bytes, l.response_bytes, l.complete,
               make_timestamp(TRY_CAST(TRY_CAST(l.timing->>'start' AS DOUBLE) * 1e6 AS BIGINT)) AS started,
               {RUN_IDENTITY}
        FROM turn_lines l JOIN run_folders f ON f.folder = l.folder""",
    "turns": f"""
        SELECT f.run, l.number AS n, l.api, l.provider, l.model,
               TRY_CAST(l.usage->>'input' AS BIGINT) AS input_tokens,
               TRY_CAST(l.usage->>'output' AS BIGINT) AS output_tokens,
               TRY_CAST(l.usage->>'cache_read' AS BIGINT) AS cache_read_tokens,
               TRY_CAST(l.usage->>'cache_write' AS BIGINT) AS cache_write_tokens,
               TRY_CAST(l.usage->>'reasoning' AS BIGINT) AS reasoning_tokens,
               coalesce(len(list_filter(CAST(json_extract_string(l.output, '$[*].parts[*].kind') AS VARCHAR[]),
                                        lambda kind: kind = 'tool_call')), 0) AS tool_calls,
               CASE WHEN coalesce(json_array_length(l.system), 0) > 0 THEN sha256(array_to_string(
                   CAST(json_extract_string(l.system, '$[*].text') AS VARCHAR[]), chr(10) || chr(10))) END
                   AS instructions_sha256,
               coalesce(list_sum(list_transform(CAST(json_extract_string(l.system, '$[*].text') AS VARCHAR[]),
                                                lambda text: length(text))), 0) AS instructions_chars,
               CASE WHEN coalesce(json_array_length(l.tools), 0) > 0 THEN sha256(array_to_string(
                   CAST(json_extract_string(l.tools, '$[*].hash') AS VARCHAR[]), ',')) END AS tools_sha256,
               coalesce(len(list_filter(CAST(json_extract(l.tools, '$[*]') AS JSON[]),
                                        lambda tool: coalesce(tool->>'type', '') <> 'namespace')), 0)
                   + tools_left_out(l.left_out) AS tools,
               l.stop_reason, i.agent, a.name AS agent_name,
               TRY_CAST(i.cache->>'hit_rate' AS DOUBLE) AS cache_hit_rate, i.cache->'cause'->>'text' AS cache_break,
               TRY_CAST(i.cost->>'usd' AS DECIMAL(18, 8)) AS cost_usd, i.cost->>'unknown' AS cost_unknown,
               {TURN_WINDOW},
               make_timestamp(TRY_CAST(TRY_CAST(l.timing->>'start' AS DOUBLE) * 1e6 AS BIGINT)) AS started,
               {RUN_IDENTITY}
        FROM turn_lines l JOIN run_folders f ON f.folder = l.folder
        LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'turn') i
               ON i.folder = l.folder AND i.number = l.number
        LEFT JOIN (SELECT folder, id, any_value(name) AS name FROM insight_lines WHERE record = 'agent' GROUP BY ALL) a
               ON a.folder = l.folder AND a.id = i.agent""",
    "tool_calls": f"""
        SELECT c.run, c.n, c.name, c.arguments, c.call_id, i.agent, a.name AS agent_name, i.answered_in, i.wait_ms,
               i.result_size, i.is_error, s.life_s AS spawned_agent_life_s,
               {RUN_IDENTITY.replace("f.", "c.")}
        FROM (SELECT f.*, l.number AS n, part->>'name' AS name, part->'arguments' AS arguments,
                     part->>'call_id' AS call_id
              FROM (SELECT l.folder, l.number,
                           unnest(CAST(json_extract(l.output, '$[*].parts[*]') AS JSON[])) AS part
                    FROM turn_lines l) l
              JOIN run_folders f ON f.folder = l.folder
              WHERE part->>'kind' = 'tool_call') c
        LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'tool_call') i
               ON i.folder = c.folder AND i.asked_in = c.n AND i.call_id IS NOT DISTINCT FROM c.call_id
        LEFT JOIN (SELECT folder, id, any_value(name) AS name FROM insight_lines WHERE record = 'agent' GROUP BY ALL) a
               ON a.folder = c.folder AND a.id = i.agent
        LEFT JOIN (SELECT folder, spawned_by->>'call_id' AS call_id, max(life_s) AS life_s FROM insight_lines
                   WHERE record = 'agent' AND spawned_by IS NOT NULL GROUP BY ALL) s
               ON s.folder = c.folder AND s.call_id = c.call_id""",
    "context": f"""
        SELECT f.run, i.number AS n, c->>'kind' AS kind, c->>'name' AS part,
               TRY_CAST(c->>'new' AS BOOLEAN) AS new, c->>'group' AS tool_group,
               TRY_CAST(c->>'tokens' AS BIGINT) AS tokens, TRY_CAST(c->>'counted' AS BIGINT) AS counted,
               i.context->>'encoding' AS encoding, TRY_CAST(i.context->>'scaled_to' AS BIGINT) AS input_tokens,
               {RUN_IDENTITY}
        FROM (SELECT folder, number, context,
                     unnest(CAST(json_extract(context, '$.categories[*]') AS JSON[])) AS c
              FROM insight_lines WHERE record = 'turn' AND context IS NOT NULL) i
        JOIN run_folders f ON f.folder = i.folder""",
    "agents": f"""
        SELECT f.run, i.id AS agent, i.name, i.path, i.parent, i.depth, i.requests, i.first_request,
               TRY_CAST(i.tokens->>'input' AS BIGINT) AS input_tokens,
               TRY_CAST(i.tokens->>'output' AS BIGINT) AS output_tokens,
               TRY_CAST(i.tokens->>'cache_read' AS BIGINT) AS cache_read_tokens,
               TRY_CAST(i.tokens->>'cache_write' AS BIGINT) AS cache_write_tokens,
               i.tool_calls, i.duration_s, i.life_s,
               TRY_CAST(i.spawned_by->>'turn' AS BIGINT) AS spawned_in, i.spawned_by->>'call_id' AS spawn_call_id,
               i.spawned_by->>'tool' AS spawn_tool,
               TRY_CAST(i.cost->>'usd' AS DECIMAL(18, 8)) AS cost_usd,
               TRY_CAST(i.cost->>'unknown_turns' AS BIGINT) AS cost_unknown_turns,
               {AGENT_WINDOW},
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'agent'""",
}
