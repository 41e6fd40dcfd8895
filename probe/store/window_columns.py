"""What the turns, agents and runs views show of the context window and the cache's time left, as select lists over
insight.jsonl's records, and the highest share of its window a run's main agents reached."""

# What the turns, agents and runs views show of each one's context window and its cache's time left, from its
# insight record (`i`, the run's `c`): a figure a hand-made file holds that no analysis writes is NULL.
TURN_WINDOW = """token_count(i."window"->>'tokens') AS window_tokens, i."window"->>'source' AS window_source,
               token_count(i."window"->>'effective') AS window_effective, i."window"->>'note' AS window_note,
               TRY_CAST(i.share AS DOUBLE) AS share, TRY_CAST(i.cache->>'since_s' AS DOUBLE) AS cache_since_s,
               TRY_CAST(i.cache->>'lifetime_s' AS DOUBLE) AS cache_lifetime_s,
               i.cache->>'lifetime_source' AS cache_lifetime_source,
               TRY_CAST(i.cache->>'lapsed' AS BOOLEAN) AS cache_lapsed,
               token_count(i.cache->>'rewritten') AS cache_rewritten,
               dollars(i.cache->>'rewritten_usd') AS cache_rewritten_usd"""
AGENT_WINDOW = """i."window"->>'model' AS window_model, token_count(i."window"->>'tokens') AS window_tokens,
               i."window"->>'source' AS window_source, TRY_CAST(i."window"->>'peak_share' AS DOUBLE) AS peak_share,
               TRY_CAST(i."window"->>'peak_turn' AS BIGINT) AS peak_turn,
               TRY_CAST(i."window"->>'last_share' AS DOUBLE) AS last_share,
               TRY_CAST(i."window"->>'last_turn' AS BIGINT) AS last_turn, i."window"->'compactions' AS compactions"""
RUN_WINDOW = """c."window"->>'model' AS window_model, token_count(c."window"->>'tokens') AS window_tokens,
               c."window"->>'source' AS window_source, token_count(c."window"->>'input') AS last_input_tokens,
               token_count(c."window"->>'headroom_tokens') AS headroom_tokens,
               TRY_CAST(c."window"->>'headroom_share' AS DOUBLE) AS headroom_share,
               c."window"->'findings' AS window_findings, token_count(c."window"->>'compactions') AS compactions,
               token_count(c.cache->>'lapses') AS cache_lapses,
               token_sum(c.cache->>'rewritten') AS cache_rewritten,
               dollars(c.cache->>'rewritten_usd') AS cache_rewritten_usd"""

# The highest share of its window any turn of a run's main agents reached (a main agent names no parent; a turn no
# agent record names is the main agent's): the share each turn's record holds, which an agent's peak_share is the
# highest of on its main model.
MAIN_PEAKS = """(
    SELECT t.folder, max(TRY_CAST(t.share AS DOUBLE)) AS peak_window_share
    FROM (SELECT folder, agent, share FROM insight_lines WHERE record = 'turn') t
    LEFT JOIN (SELECT folder, id, bool_or(parent IS NOT NULL) AS child FROM insight_lines
               WHERE record = 'agent' GROUP BY ALL) a ON a.folder = t.folder AND a.id = t.agent
    WHERE NOT coalesce(a.child, false)
    GROUP BY t.folder)"""
