"""Replay: a recorded run served back to its agent as a stand-in upstream, request by request."""
