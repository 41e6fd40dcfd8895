"""Facts derived from the conversation model: key paths, token sums, what two runs are compared by, and values
that change from run to run without meaning anything. In: turns and exchanges. Out: plain values for the writers."""
