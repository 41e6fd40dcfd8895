"""Every release of an agent, and agents side by side, through the same scenarios against the mock (invoke releases)."""
