"""What every stage shares: the errors and their one exit boundary, how paths are shown, progress lines, the
argument parser, JSON parsing, body decoding, and inert Markdown. In: nothing of the project. Out: small tools."""
