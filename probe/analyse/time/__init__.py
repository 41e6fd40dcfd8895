"""Where a run's time went: each agent's lane of intervals (model calls, tool waits, sub-agents, the user, the agent
itself), their sums by part, and the chain of intervals that set the run's end."""
