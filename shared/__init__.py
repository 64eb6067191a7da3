"""What the ingest and the worker both need. Stdlib only: the ingest's cold start depends on it."""
