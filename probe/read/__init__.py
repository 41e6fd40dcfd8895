"""Reading a capture: traffic.jsonl into exchanges, Server-Sent Events into events, and the API-neutral conversation
model every output is written from. In: a run's files. Out: exchanges and the model's types."""
