"""Publish: the release's files from the validated tables. The DuckDB database, CSV and Parquet
(database.py), datapackage.json (descriptor.py), the reports and the README's findings (quality_report.py,
root_docs.py), all staged and cross-checked (staging.py) before the release package swaps them in; the
publish command itself (run.py); the readers of a published release (readers.py) and the release bundle
(bundle.py)."""
