"""Checks: the cross-checks, one query per file in this folder (`.sql`, or `.yaml` naming a shared shape of
shapes.py) that returns the failing rows with an explicit tolerance; the runner (run.py); and the quality
gate that turns their findings into quality_checks, each corrected by an erratum, acknowledged, or
failing the build (quality.py). The station path's checks are in stations/."""
