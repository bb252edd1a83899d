"""Forensics: election-forensics tests on the validated tables, with their null models explicit and
their calibration on synthetic elections (parameters: forensics/parameters.yaml, reviewed; set after
reading the article, so the tests it suggests are exploratory). Every result is a property of the
published numbers; none shows who produced them or why.

The regional tests and tables (regions.py), the per-region rounding model (rounding.py), the polls
(polls.py), the calibration (calibration.py), the null distributions (distributions.py), how a result is
written (rows.py), whose numbers each test reads (provenance.py), the readable report (report.py), and the
second process that computes them during the build (process.py).

References: Klimek, Yegorov, Hanel and Thurner, 'Statistical detection of systematic election
irregularities', PNAS 109 (2012); Kobak, Shpilkin and Pshenichnikov, 'Integer percentages as electoral
falsification fingerprints', Annals of Applied Statistics 10 (2016); Mebane, 'Election forensics: the
second-digit Benford's law test and recent American presidential elections' (2006); Deckert, Myagkov and
Ordeshook, 'Benford's law and the detection of election fraud', Political Analysis 19 (2011).
"""

from __future__ import annotations

from pathlib import Path

from pipeline import ROOT
from pipeline.common.yamlfile import read_yaml

PARAMETERS = ROOT / "forensics" / "parameters.yaml"
# The validated tables the forensics read: they are given these alone, and their result is known by these.
INPUTS = (
    "region_ballots",
    "party_list_results",
    "national_party_list_results",
    "national_ballots",
    "exit_polls",
    "opinion_polls",
    "independent_reports",  # which of the cells the tests read independent reports give (provenance.py)
    "elections",  # the tests across elections (across.py)
    "election_options",
    "election_results",
)
TABLES = (
    "forensic_tests",
    "forensic_region_shares",
    "forensic_region_summary",
    "forensic_region_rounding",
    "poll_errors",
    "forensic_calibration",
    "forensic_elections",
)


def parameters(path: Path = PARAMETERS) -> dict:
    """The reviewed parameters."""
    return read_yaml(path)


def run(tables: dict[str, list[dict]], params: dict | None = None) -> dict[str, list[dict]]:
    """The forensics tables from the validated tables (numpy, seeded: byte-identical from run to run). The
    tests draw from one generator in a fixed order: grid tests, then the associations."""
    import numpy as np

    from pipeline.forensics import across, calibration, polls, provenance, regions, rounding
    from pipeline.forensics.rows import with_role

    params = params or parameters()
    rng = np.random.Generator(np.random.PCG64(params["seed"]))
    data = regions.prepare(np, tables, params)
    tests = regions.grid_tests(np, data, params, rng) + regions.association_tests(np, data, params, rng)
    poll_rows = polls.poll_errors(tables, data.national_shares, data.options)
    region_shares, summary = regions.region_tables(data)
    forensic_tests = [with_role(row) for row in provenance.attach(tests + polls.poll_tests(poll_rows), tables, params)]
    return {
        "forensic_tests": forensic_tests,
        "forensic_region_shares": region_shares,
        "forensic_region_summary": summary,
        "forensic_region_rounding": rounding.region_rounding(data, params),
        "poll_errors": poll_rows,
        "forensic_calibration": calibration.calibrated(
            np, data.valid, data.national_shares / 100, params, data.cast / data.registered, data.registered
        ),
        "forensic_elections": across.elections_tests(np, tables, forensic_tests, params),
    }
