"""OpenAI Responses API, over HTTP with Server-Sent Events and over WebSocket."""
