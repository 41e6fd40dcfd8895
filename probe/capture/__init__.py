"""Capture: starts the reverse proxies (mitmdump with the recorder addon) and the agent, and keeps a run honest to
its end. In: a target and a prompt. Out: a run folder with traffic.jsonl and manifest.json. Reads nothing back."""
