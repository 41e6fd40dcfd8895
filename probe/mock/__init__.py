"""A stand-in model server (OpenAI Responses API) that real agents can complete turns against."""
