"""The static data portal (site/), built from the published release only (build.py)."""
