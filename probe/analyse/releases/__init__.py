"""What changed between two versions of one agent, read from their release runs: instructions, tools, models,
endpoints, headers, hosts, telemetry events, each scenario's figures, and what agent-probe did not understand."""
