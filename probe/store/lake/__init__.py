"""The team lake: DuckLake with its catalog in PostgreSQL (or a DuckDB file), its data on a disk or object storage;
publishing runs to it, reading it through the same views, and keeping it in shape."""
