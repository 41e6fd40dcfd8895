"""Each turn's context window and where it came from, and how full each turn, agent and run came to be."""
