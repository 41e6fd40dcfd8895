"""Any JSON API, read without knowing it: bodies kept raw, stream events counted."""
