"""The intake benchmark: submissions through the HTTP API against a raw-SQL baseline."""
