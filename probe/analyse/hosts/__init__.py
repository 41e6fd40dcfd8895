"""Traffic to other hosts than the model API's (the forward proxy's): what kind each exchange is, its telemetry's
events decoded, and each host's totals."""
