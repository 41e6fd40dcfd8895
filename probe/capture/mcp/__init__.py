"""A run's MCP servers: which it has, how the agent is given them, and how each is recorded."""
