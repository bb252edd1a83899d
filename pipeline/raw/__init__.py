"""The source: the pinned snapshots of the article in raw/ with their manifest (snapshot.py), and the
network fetch of a new revision into it (fetch.py)."""
