"""The agent's own account joined to the wire: each record matched to the exchange it describes, and compared."""
