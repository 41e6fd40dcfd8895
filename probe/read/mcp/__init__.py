"""Reading a run's MCP record (mcp.jsonl): each server's session, its calls, listings and notifications."""
