"""Continue CLI's account: metrics only (1.5.47 sends no record of each request to OpenTelemetry)."""

from probe.read.account.metrics import ACTIVE, COST, INPUT, OUTPUT, Measure, MetricTable

# Measured against the mock (cumulative sums, `model` on cost and tokens): its cost at its own prices, its tokens by
# `type` (`input` with the cached ones: 2,935 where the wire's two requests say 1,426 and 1,509), its active time.
METRICS = MetricTable({
    "continue_cli_cost_usage": Measure(COST),
    "continue_cli_token_usage": Measure(by="type", kinds={"input": INPUT, "output": OUTPUT}),
    "continue_cli_active_time_total": Measure(ACTIVE),
}, session=())  # fmt: skip
