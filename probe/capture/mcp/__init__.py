"""The agent's MCP servers in a run: where they come from, how the agent is given them, and the relay that records
each stdio one."""
