"""The network: one HTTP client with its limits and retries (client.py), how each failure is named
(problems.py), and the verified download of a published release (download.py)."""
