"""The MCP servers' calls joined to the model's tool calls, and what each server's tools cost in the context."""
