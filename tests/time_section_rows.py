"""Reads the report's `## Time` table back: each row's wall time and parts, in seconds as shown."""

NAME_DECORATION = " \u00a0└*`"


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def time_rows(report: str) -> dict[str, dict[str, float]]:
    """Each row of the section's first table by its agent's name (`run` for the run's): `wall` and each part shown
    (by the report's label: `model waiting`, `tools`, …), in seconds; a blank cell is no time."""
    section = report.split("\n## Time\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(cells(line))
    header, rows = table[0], table[2:]
    found = {}
    for row in rows:
        figures = {label: float(cell.split(" s")[0].replace(",", "")) if cell else 0.0
                   for label, cell in zip(header[1:], row[1:], strict=True) if label != "tools by tool"}  # fmt: skip
        found[row[0].strip(NAME_DECORATION)] = figures
    return found
