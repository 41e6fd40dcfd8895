"""The HTML viewer: report.html, one self-contained page written from the same pass as report.md."""
