"""The store: the SQL views over every run's files, the Parquet export and the team lake, apart from the report
writers. In: the runs' turns.jsonl and manifests. Out: DuckDB views, Parquet files and a lake's rows, all masked."""
