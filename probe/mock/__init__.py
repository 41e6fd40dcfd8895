"""A stand-in model server that real agents and the official SDKs can complete turns against."""
