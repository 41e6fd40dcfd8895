"""The SQL views over the run files, built so that their work grows with the data: each turns.jsonl table is unnested
once, each distinct list of numbers is read once, and values are joined by number, each row carrying only its own."""

from probe.read.conversation import MOST_TOKENS
from probe.store.identity_columns import RUN_IDENTITY, RUNS_IDENTITY
from probe.store.releases_view import RELEASES
from probe.store.window_columns import AGENT_WINDOW, MAIN_PEAKS, RUN_WINDOW, TURN_WINDOW

# Two rules keep the work linear, whatever a run holds (a line's table of 200,000 tools, say):
# - a list is unnested from a column of a subquery, never from an expression: DuckDB works out an UNNEST's argument
#   again for each 2,048 rows it gives, so `unnest(json_extract(new, …))` parses the whole table once per 2,048
#   values, and every column beside it (the line's `new`, read for its `from`) is copied into each row;
# - what lines name by numbers is read once for each distinct list of numbers in a file (the tools a session sends
#   with every request are one list), not once for each line, and what the views show of it (a count, a digest) is
#   worked out from the values one by one, never from the list made whole.

# The rows of turns.jsonl that are turns: a row without a number is a damaged line (see damaged_lines).
TURN_ROWS = "SELECT * FROM turn_files WHERE number IS NOT NULL"

# Each value a line of schema 2 adds to its file's table, numbered from the `from` of that line's `new` (a number
# past 64 bits, which only a hand-made `from` gives, is NULL and names nothing), from `tables`: a row for each `new`
# with its `folder`, its `from` (`first`) and its values (`tab`), as turns.jsonl is read where it lies (`new` as
# JSON) or loaded (`new` read as its two fields, which spares writing the values out as one text to parse again).
VALUES_OF = """
    SELECT folder, TRY_CAST(first + position - 1 AS BIGINT) AS number, value
    FROM (SELECT folder, first, unnest(tab) AS value, generate_subscripts(tab, 1) AS position FROM {tables})"""
TURN_VALUES = VALUES_OF.format(
    tables="""(SELECT folder, TRY_CAST(new->>'from' AS HUGEINT) AS first, json_extract(new, '$.values[*]') AS tab
              FROM turn_files WHERE schema = 2 AND new IS NOT NULL)"""
)
NEW_FIELDS = 'STRUCT("from" HUGEINT, "values" JSON[])'  # how the loader reads `new`
LOADED_VALUES = VALUES_OF.format(
    tables="(SELECT folder, new.from AS first, new.values AS tab FROM turn_files WHERE schema = 2 AND new IS NOT NULL)"
)

# Each distinct `system`, `tools` or `output` of a file's turns, as its text (`key`), numbered (`part`): a list of
# runs of numbers on a line of schema 2 (`numbered`), the list itself on a line of schema 1.
TURN_PARTS = """
    SELECT row_number() OVER (ORDER BY folder, numbered, field, key) AS part, * FROM (
        SELECT DISTINCT folder, coalesce(schema = 2, false) AS numbered, field, key FROM (
            SELECT folder, schema, 'system' AS field, CAST(system AS VARCHAR) AS key FROM turn_rows
            UNION ALL SELECT folder, schema, 'tools', CAST(tools AS VARCHAR) FROM turn_rows
            UNION ALL SELECT folder, schema, 'output', CAST(output AS VARCHAR) FROM turn_rows)
        WHERE key IS NOT NULL)"""

# The numbers each numbered part names, in order (`position`). Runs of numbers [first, count] are read within the
# numbers the file's table holds: a run of 10**12 numbers names no more values than the table has.
PART_NUMBERS = """
    WITH bounds AS (
        SELECT folder, min(number) AS low, CAST(max(number) AS HUGEINT) + 1 AS stop FROM turn_values GROUP BY folder),
    runs AS (
        SELECT p.part, p.folder,
               flatten(list_transform(TRY_CAST(p.key AS BIGINT[][]), lambda run: range(
                   CASE WHEN run[1] < b.low THEN b.low ELSE run[1] END,
                   CAST(CASE WHEN CAST(run[1] AS HUGEINT) + run[2] > b.stop THEN b.stop
                             WHEN CAST(run[1] AS HUGEINT) + run[2] < b.low THEN b.low
                             ELSE CAST(run[1] AS HUGEINT) + run[2] END AS BIGINT)))) AS numbers
        FROM turn_parts p JOIN bounds b ON b.folder = p.folder
        WHERE p.numbered)
    SELECT part, folder, unnest(numbers) AS number, generate_subscripts(numbers, 1) AS position FROM runs"""

# The values of each part of schema 1, which holds them itself, in order.
PART_ELEMENTS = """
    SELECT part, generate_subscripts(elements, 1) AS position, unnest(elements) AS value
    FROM (SELECT part, json_extract(CAST(key AS JSON), '$[*]') AS elements FROM turn_parts WHERE NOT numbered)"""

# The values of each part, in order.
PART_VALUES = """
    SELECT n.part, n.position, v.value
    FROM part_numbers n JOIN turn_values v ON v.folder = n.folder AND v.number = n.number
    UNION ALL
    SELECT * FROM part_elements"""

# Each turn made whole: what a line of schema 2 names by numbers, as the values (an empty list where it names none).
WHOLE_LINES = """
    WITH whole AS (
        SELECT p.folder, p.field, p.key, to_json(list(v.value ORDER BY v.position)) AS value
        FROM turn_parts p JOIN part_values v ON v.part = p.part
        WHERE p.numbered
        GROUP BY p.part, p.folder, p.field, p.key)
    SELECT l.* REPLACE (
        CASE WHEN l.schema = 2 THEN coalesce(s.value, CAST('[]' AS JSON)) ELSE l.system END AS system,
        CASE WHEN l.schema = 2 THEN coalesce(t.value, CAST('[]' AS JSON)) ELSE l.tools END AS tools,
        CASE WHEN l.schema = 2 THEN coalesce(o.value, CAST('[]' AS JSON)) ELSE l.output END AS output)
    FROM turn_rows l
    LEFT JOIN whole s ON s.folder = l.folder AND s.field = 'system' AND s.key = CAST(l.system AS VARCHAR)
    LEFT JOIN whole t ON t.folder = l.folder AND t.field = 'tools' AND t.key = CAST(l.tools AS VARCHAR)
    LEFT JOIN whole o ON o.folder = l.folder AND o.field = 'output' AND o.key = CAST(l.output AS VARCHAR)"""

# What the turns view shows of a value (an instruction block's text, a tool's hash and whether it is one, an output
# item's tool calls), worked out once for each value, so that a part's lists join these and not the values.
VALUE_FACTS = """value->>'text' AS text, value->>'hash' AS hash,
    coalesce(value->>'type', '') <> 'namespace' AS tool,
    len(list_filter(json_extract_string(value, '$.parts[*].kind'), lambda kind: kind = 'tool_call')) AS calls"""
# The tool calls among an output item's parts.
VALUE_CALLS = """
    SELECT * EXCLUDE (call), call->>'name' AS name, call->'arguments' AS arguments, call->>'call_id' AS call_id
    FROM (SELECT * EXCLUDE (parts), unnest(parts) AS call
          FROM (SELECT {keys}, json_extract(value, '$.parts[*]') AS parts FROM {values}))
    WHERE call->>'kind' = 'tool_call'"""
NUMBERED_FACTS = f"SELECT folder, number, {VALUE_FACTS} FROM turn_values"
NUMBERED_CALLS = VALUE_CALLS.format(keys="folder, number", values="turn_values")

# What the turns view shows of each part, from its values one by one (the same as from the list made whole: a list
# with values but no text or hash is the digest of an empty text).
PART_FACTS = f"""
    WITH facts AS (
        SELECT n.part, n.position, f.* EXCLUDE (folder, number)
        FROM part_numbers n JOIN numbered_facts f ON f.folder = n.folder AND f.number = n.number
        UNION ALL
        SELECT part, position, {VALUE_FACTS} FROM part_elements)
    SELECT p.folder, p.numbered, p.field, p.key,
           CASE WHEN f.values > 0 THEN sha256(coalesce(f.texts, '')) END AS instructions_sha256,
           coalesce(f.chars, 0) AS instructions_chars,
           CASE WHEN f.values > 0 THEN sha256(coalesce(f.hashes, '')) END AS tools_sha256,
           coalesce(f.tools, 0) AS tools, coalesce(f.tool_calls, 0) AS tool_calls
    FROM turn_parts p LEFT JOIN (
        SELECT part, count(*) AS values, string_agg(text, chr(10) || chr(10) ORDER BY position) AS texts,
               CAST(sum(length(text)) AS HUGEINT) AS chars, string_agg(hash, ',' ORDER BY position) AS hashes,
               count(*) FILTER (WHERE tool) AS tools, CAST(sum(calls) AS BIGINT) AS tool_calls
        FROM facts GROUP BY part) f ON f.part = p.part"""

# The tool calls among the parts of each output's items.
OUTPUT_CALLS = f"""
    SELECT p.folder, p.numbered, p.key, c.name, c.arguments, c.call_id
    FROM turn_parts p JOIN part_numbers n ON n.part = p.part
    JOIN numbered_calls c ON c.folder = n.folder AND c.number = n.number
    WHERE p.field = 'output'
    UNION ALL
    SELECT p.folder, p.numbered, p.key, c.name, c.arguments, c.call_id
    FROM turn_parts p JOIN ({VALUE_CALLS.format(keys="part", values="part_elements")}) c ON c.part = p.part
    WHERE p.field = 'output'"""

# What the views read as a count of tokens, a sum of them and a cost in US dollars: NULL where a file holds what
# no analysis writes (a hand-made turns.jsonl's negative count, say), as the analysis reads a capture's counts.
MACROS = {
    "token_count(value)": (
        f"CASE WHEN TRY_CAST(value AS BIGINT) BETWEEN 0 AND {MOST_TOKENS} THEN TRY_CAST(value AS BIGINT) END"
    ),
    "token_sum(value)": "CASE WHEN TRY_CAST(value AS BIGINT) >= 0 THEN TRY_CAST(value AS BIGINT) END",
    # An epoch time in seconds (insight.jsonl's) as a UTC TIMESTAMP.
    "epoch_time(value)": "make_timestamp(TRY_CAST(TRY_CAST(value AS DOUBLE) * 1e6 AS BIGINT))",
    "dollars(value)": "CASE WHEN TRY_CAST(value AS DECIMAL(18, 8)) >= 0 THEN TRY_CAST(value AS DECIMAL(18, 8)) END",
    # The tools a request sent that its line does not list: a tools list too long to read whole was read at its
    # ends (its line's `left_out`), the tools themselves or a list of them in one of its elements.
    "tools_left_out(left_out)": r"""coalesce(list_sum(list_transform(
        list_filter(CAST(json_extract(left_out, '$[*]') AS JSON[]),
                    lambda gap: regexp_full_match(coalesce(gap->>'where', ''), 'request tools(\[[0-9]+\]\.\w+)?')),
        lambda gap: greatest(0, coalesce(TRY_CAST(gap->>'count' AS BIGINT) - TRY_CAST(gap->>'first' AS BIGINT)
                                         - TRY_CAST(gap->>'last' AS BIGINT), 0)))), 0)""",
}

# Each agent's one readable name, by its id: what the turns and tool_calls views call the agent (a hostile file that
# names an id twice gets one of its names, never a row twice).
AGENT_NAMES = "(SELECT folder, id, any_value(name) AS name FROM insight_lines WHERE record = 'agent' GROUP BY ALL)"

# The documented views (docs/sql.md). `folder` joins a file to its run. Times are UTC TIMESTAMPs
# (a TIMESTAMPTZ would need pytz to reach Python).
VIEWS = {
    # The agent's own account beside the wire (probe.write.account_records): a row per exchange matched, with the
    # key that matched it, per record of a request with no exchange (n NULL), per exchange with no record.
    "account": f"""
        SELECT f.run, i.number AS n, i.name AS record, i.line, i.key AS matched_by,
               i.agent_model, i.model, coalesce(i.rewritten, false) AS model_rewritten,
               token_count(i.agent_count->>'input_tokens') AS agent_input_tokens,
               token_count(i.api_count->>'input_tokens') AS api_input_tokens,
               token_count(i.agent_count->>'uncached_input_tokens') AS agent_uncached_input_tokens,
               token_count(i.api_count->>'uncached_input_tokens') AS api_uncached_input_tokens,
               token_count(i.agent_count->>'cache_read_tokens') AS agent_cache_read_tokens,
               token_count(i.api_count->>'cache_read_tokens') AS api_cache_read_tokens,
               token_count(i.agent_count->>'cache_write_tokens') AS agent_cache_write_tokens,
               token_count(i.api_count->>'cache_write_tokens') AS api_cache_write_tokens,
               token_count(i.agent_count->>'output_tokens') AS agent_output_tokens,
               token_count(i.api_count->>'output_tokens') AS api_output_tokens,
               dollars(i.agent_count->>'cost_usd') AS agent_cost_usd, dollars(i.api_count->>'cost_usd') AS cost_usd,
               TRY_CAST(i.agent_count->>'ttft_ms' AS DOUBLE) AS agent_ttft_ms,
               TRY_CAST(i.api_count->>'first_byte_ms' AS DOUBLE) AS first_byte_ms,
               TRY_CAST(i.agent_count->>'duration_ms' AS DOUBLE) AS agent_duration_ms,
               TRY_CAST(i.api_count->>'duration_ms' AS DOUBLE) AS duration_ms,
               coalesce(json_array_length(i.disagreements), 0) AS disagreements,
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'account_exchange'""",
    # The agent's own totals (its metrics, summed) beside the wire's, by session and model
    # (probe.write.account_records): NULL where a side does not count it.
    "account_totals": f"""
        SELECT f.run, i.session, i.model,
               token_sum(i.agent_count->>'requests') AS agent_requests,
               token_sum(i.api_count->>'requests') AS requests,
               token_sum(i.agent_count->>'input') AS agent_input_tokens,
               token_sum(i.api_count->>'input') AS api_input_tokens,
               token_sum(i.agent_count->>'uncached_input') AS agent_uncached_input_tokens,
               token_sum(i.api_count->>'uncached_input') AS api_uncached_input_tokens,
               token_sum(i.agent_count->>'cache_read') AS agent_cache_read_tokens,
               token_sum(i.api_count->>'cache_read') AS api_cache_read_tokens,
               token_sum(i.agent_count->>'cache_write') AS agent_cache_write_tokens,
               token_sum(i.api_count->>'cache_write') AS api_cache_write_tokens,
               token_sum(i.agent_count->>'output') AS agent_output_tokens,
               token_sum(i.api_count->>'output') AS api_output_tokens,
               dollars(i.agent_count->>'cost_usd') AS agent_cost_usd, dollars(i.api_count->>'cost_usd') AS cost_usd,
               TRY_CAST(i.agent_count->>'active_s' AS DOUBLE) AS agent_active_s,
               TRY_CAST(i.api_count->>'active_s' AS DOUBLE) AS model_time_s,
               coalesce(json_array_length(i.disagreements), 0) AS disagreements,
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'account_total'""",
    # Every record of telemetry.jsonl, counted once by what became of it (the manifest's count is their sum).
    "account_records": f"""
        SELECT f.run, r.value->>'what' AS what, TRY_CAST(r.value->>'count' AS BIGINT) AS records,
               r.value->'names' AS names,
               {RUN_IDENTITY}
        FROM (SELECT folder, unnest(CAST(json_extract(account, '$.read[*]') AS JSON[])) AS value
              FROM insight_lines WHERE record = 'account') r JOIN run_folders f ON f.folder = r.folder""",
    # Each compaction the agent logged (probe.write.account_compactions), beside its summarisation request (n).
    "account_compactions": f"""
        SELECT f.run, i.number AS n, i.name AS record, i.source, i.line, i.key AS found_by, i.trigger,
               token_count(i.tokens_before) AS tokens_before, token_count(i.tokens_after) AS tokens_after,
               TRY_CAST(i.duration_ms AS DOUBLE) AS duration_ms,
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'account_compaction'""",
    "runs": f"""
        SELECT f.run, f.target, timezone('UTC', TRY_STRPTIME(m.started_at, '%Y-%m-%dT%H:%M:%S%z')) AS started,
               m.status, f.agent_version, coalesce(t.exchanges, 0) AS exchanges,
               m.agent_exit_code AS exit_code, m.label, m.prompt,
               dollars(c.cost->>'usd') AS cost_usd,
               TRY_CAST(c.cost->>'unknown_turns' AS BIGINT) AS cost_unknown_turns, c.cost->>'prices' AS prices,
               {RUN_WINDOW}, p.peak_window_share,
               {RUNS_IDENTITY}
        FROM run_folders f
        LEFT JOIN manifest_files m ON m.folder = f.folder
        LEFT JOIN {MAIN_PEAKS} p ON p.folder = f.folder
        LEFT JOIN (SELECT folder, cost, cache, "window" FROM insight_lines WHERE record = 'run') c
               ON c.folder = f.folder
        LEFT JOIN (SELECT folder, count(*) AS exchanges FROM turn_heads GROUP BY folder) t ON t.folder = f.folder""",
    "exchanges": f"""
        SELECT f.run, l.number AS n, l.kind, l.proxy, l.method, l.path, l.status,
               TRY_CAST(l.timing->>'ttfb_ms' AS DOUBLE) AS ttfb_ms,
               TRY_CAST(l.timing->>'duration_ms' AS DOUBLE) AS duration_ms,
               l.request_bytes, l.response_bytes, l.complete,
               make_timestamp(TRY_CAST(TRY_CAST(l.timing->>'start' AS DOUBLE) * 1e6 AS BIGINT)) AS started,
               {RUN_IDENTITY}
        FROM turn_heads l JOIN run_folders f ON f.folder = l.folder""",
    # Every exchange of every proxy: the turns (model calls; a reverse proxy's host is its upstream, which
    # turns.jsonl does not hold), and what insight.jsonl records of the forward proxy's other exchanges.
    "requests": f"""
        SELECT f.run, r.n, r.proxy, r.host, r.method, r.path, r.status, r.kind, r.bytes_sent, r.bytes_received,
               r.error, r.events,
               {RUN_IDENTITY}
        FROM (SELECT l.folder, l.number AS n, l.proxy, q.host, l.method, l.path, l.status, 'model-api' AS kind,
                     l.request_bytes AS bytes_sent, l.response_bytes AS bytes_received, NULL AS error, 0 AS events
              FROM turn_heads l
              LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'request') q
                     ON q.folder = l.folder AND q.number = l.number
              UNION ALL
              SELECT folder, number, proxy, host, method, path, status, kind, bytes_sent, bytes_received, error,
                     coalesce(event_count, 0)
              FROM insight_lines i
              WHERE record = 'request' AND kind <> 'model-api') r
        JOIN run_folders f ON f.folder = r.folder""",
    "turns": f"""
        SELECT f.run, l.number AS n, l.api, l.provider, l.model,
               token_count(l.usage->>'input') AS input_tokens,
               token_count(l.usage->>'output') AS output_tokens,
               token_count(l.usage->>'cache_read') AS cache_read_tokens,
               token_count(l.usage->>'cache_write') AS cache_write_tokens,
               token_count(l.usage->>'reasoning') AS reasoning_tokens,
               coalesce(o.tool_calls, 0) AS tool_calls, s.instructions_sha256,
               coalesce(s.instructions_chars, 0) AS instructions_chars, t.tools_sha256,
               coalesce(t.tools, 0) + tools_left_out(l.left_out) AS tools,
               l.stop_reason, i.agent, a.name AS agent_name,
               TRY_CAST(i.cache->>'hit_rate' AS DOUBLE) AS cache_hit_rate, i.cache->'cause'->>'text' AS cache_break,
               dollars(i.cost->>'usd') AS cost_usd, i.cost->>'unknown' AS cost_unknown,
               {TURN_WINDOW},
               make_timestamp(TRY_CAST(TRY_CAST(l.timing->>'start' AS DOUBLE) * 1e6 AS BIGINT)) AS started,
               {RUN_IDENTITY}
        FROM turn_heads l JOIN run_folders f ON f.folder = l.folder
        LEFT JOIN part_facts s ON s.folder = l.folder AND s.field = 'system' AND s.key = CAST(l.system AS VARCHAR)
                          AND s.numbered = coalesce(l.schema = 2, false)
        LEFT JOIN part_facts t ON t.folder = l.folder AND t.field = 'tools' AND t.key = CAST(l.tools AS VARCHAR)
                          AND t.numbered = coalesce(l.schema = 2, false)
        LEFT JOIN part_facts o ON o.folder = l.folder AND o.field = 'output' AND o.key = CAST(l.output AS VARCHAR)
                          AND o.numbered = coalesce(l.schema = 2, false)
        LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'turn') i
               ON i.folder = l.folder AND i.number = l.number
        LEFT JOIN {AGENT_NAMES} a
               ON a.folder = l.folder AND a.id = i.agent""",
    "tool_calls": f"""
        SELECT f.run, l.number AS n, c.name, c.arguments, c.call_id, i.agent, a.name AS agent_name, i.answered_in,
               i.wait_ms, i.result_size, i.is_error, s.life_s AS spawned_agent_life_s,
               {RUN_IDENTITY}
        FROM turn_heads l JOIN run_folders f ON f.folder = l.folder
        JOIN output_calls c ON c.folder = l.folder AND c.numbered = coalesce(l.schema = 2, false)
                            AND c.key = CAST(l.output AS VARCHAR)
        LEFT JOIN (SELECT * FROM insight_lines WHERE record = 'tool_call') i
               ON i.folder = l.folder AND i.asked_in = l.number AND i.call_id IS NOT DISTINCT FROM c.call_id
        LEFT JOIN {AGENT_NAMES} a
               ON a.folder = l.folder AND a.id = i.agent
        LEFT JOIN (SELECT folder, spawned_by->>'call_id' AS call_id, max(life_s) AS life_s FROM insight_lines
                   WHERE record = 'agent' AND spawned_by IS NOT NULL GROUP BY ALL) s
               ON s.folder = l.folder AND s.call_id = c.call_id""",
    "context": f"""
        SELECT f.run, i.number AS n, c->>'kind' AS kind, c->>'name' AS part,
               TRY_CAST(c->>'new' AS BOOLEAN) AS new, c->>'group' AS tool_group,
               token_count(c->>'tokens') AS tokens, token_count(c->>'counted') AS counted,
               i.encoding, i.input_tokens,
               {RUN_IDENTITY}
        FROM (SELECT folder, number, encoding, input_tokens, unnest(categories) AS c
              FROM (SELECT folder, number, context->>'encoding' AS encoding,
                           token_count(context->>'scaled_to') AS input_tokens,
                           CAST(json_extract(context, '$.categories[*]') AS JSON[]) AS categories
                    FROM insight_lines WHERE record = 'turn' AND context IS NOT NULL)) i
        JOIN run_folders f ON f.folder = i.folder""",
    # The intervals of each agent's lane (the time model, probe.analyse.time): a model call's waiting runs from its
    # start to its first byte, its streaming from there to its end.
    "spans": f"""
        SELECT f.run, TRY_CAST(i.id AS BIGINT) AS span, i.agent, a.name AS agent_name, i.kind, i.name,
               epoch_time(i.start) AS started, epoch_time(i."end") AS ended, epoch_time(i.first_byte) AS first_byte,
               TRY_CAST(i.duration_ms AS DOUBLE) AS duration_ms,
               (i.first_byte - i.start) * 1000 AS waiting_ms, (i."end" - i.first_byte) * 1000 AS streaming_ms,
               TRY_CAST(i.exchanges AS BIGINT[]) AS exchanges, i.call_id, i.child, c.name AS child_name,
               token_count(i.tokens->>'input') AS input_tokens, token_count(i.tokens->>'output') AS output_tokens,
               token_count(i.tokens->>'cache_read') AS cache_read_tokens,
               token_count(i.tokens->>'cache_write') AS cache_write_tokens,
               dollars(i.cost_usd) AS cost_usd, i.cache_break, i.compaction, i.open, i.critical,
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        LEFT JOIN {AGENT_NAMES} a ON a.folder = i.folder AND a.id = i.agent
        LEFT JOIN {AGENT_NAMES} c ON c.folder = i.folder AND c.id = i.child
        WHERE i.record = 'span'""",
    # Where the time went: a row per agent and one for the run (agent NULL), each row's parts adding up to its wall.
    "time": f"""
        SELECT f.run, i.agent, i.name, i.parent, i.depth, epoch_time(i.start) AS started,
               epoch_time(i."end") AS ended, i.wall_s,
               TRY_CAST(i.parts->>'model_waiting' AS DOUBLE) AS model_waiting_s,
               TRY_CAST(i.parts->>'model_streaming' AS DOUBLE) AS model_streaming_s,
               TRY_CAST(i.parts->>'tools' AS DOUBLE) AS tools_s,
               TRY_CAST(i.parts->>'sub_agents' AS DOUBLE) AS sub_agents_s,
               TRY_CAST(i.parts->>'user' AS DOUBLE) AS user_s, TRY_CAST(i.parts->>'agent' AS DOUBLE) AS agent_s,
               TRY_CAST(i.tools AS MAP(VARCHAR, DOUBLE)) AS tools, i.spans,
               TRY_CAST(i.critical_path AS BIGINT[]) AS critical_path,
               TRY_CAST(i.critical_s AS MAP(VARCHAR, DOUBLE)) AS critical_s,
               TRY_CAST(i.critical_steps_s AS DOUBLE[]) AS critical_steps_s,
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'time'""",
    # Each JSON-RPC request between the agent and an MCP server, or the server and the agent (probe.write.mcp_records),
    # with the model's tool call it was joined to: the turn whose answer asked for it, the server's own time and the
    # agent's wait, and what the agent sent the model of its result.
    "mcp_calls": f"""
        SELECT f.run, i.server, i.transport, i.method, i.asked_by, i.tool, i.model_tool, i.arguments, i.request_id,
               i.asked_in AS turn, i.call_id, i.answered_in, epoch_time(i.start) AS started,
               epoch_time(i."end") AS ended, i.seconds, i.server_seconds, i.agent_wait_seconds, i.result_sent,
               i.is_error, i.error,
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'mcp_call'""",
    "agents": f"""
        SELECT f.run, i.id AS agent, i.name, i.path, i.parent, i.depth, i.requests, i.first_request,
               token_sum(i.tokens->>'input') AS input_tokens,
               token_sum(i.tokens->>'output') AS output_tokens,
               token_sum(i.tokens->>'cache_read') AS cache_read_tokens,
               token_sum(i.tokens->>'cache_write') AS cache_write_tokens,
               i.tool_calls, i.duration_s, i.life_s,
               TRY_CAST(i.spawned_by->>'turn' AS BIGINT) AS spawned_in, i.spawned_by->>'call_id' AS spawn_call_id,
               i.spawned_by->>'tool' AS spawn_tool,
               dollars(i.cost->>'usd') AS cost_usd,
               TRY_CAST(i.cost->>'unknown_turns' AS BIGINT) AS cost_unknown_turns,
               {AGENT_WINDOW},
               {RUN_IDENTITY}
        FROM insight_lines i JOIN run_folders f ON f.folder = i.folder
        WHERE i.record = 'agent'""",
    "releases": RELEASES,  # (after the views it reads)
}

# The views that read turns.jsonl where it lies, in the order each can be made (each reads those before it): the
# documented views read the tables loaded from it instead (probe.store.load), and these are there for a query
# that wants every value or each turn whole.
TURN_VIEWS = {
    "turn_rows": TURN_ROWS,
    "turn_values": TURN_VALUES,
    "turn_parts": TURN_PARTS,
    "part_numbers": PART_NUMBERS,
    "part_elements": PART_ELEMENTS,
    "part_values": PART_VALUES,
    "turn_lines": WHOLE_LINES,
}

VIEWS_WORD = "views"  # what `invoke sql` takes in place of a query to list the views (invoke's positional is required)
# What a query may read (docs/sql.md): every view, by name. (Here, not in probe.analysis.sql, so that the task's help
# is at hand without loading the script.)
QUERY_HELP = (
    f"a query over the views {', '.join(VIEWS)} (see docs/sql.md); `{VIEWS_WORD}` instead lists them and their columns"
)
