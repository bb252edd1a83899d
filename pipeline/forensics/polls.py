"""The polls against the official national shares (poll_errors) and their descriptive test rows."""

from __future__ import annotations

from pipeline.forensics.rows import rounded


def poll_errors(tables: dict, national_shares, options: list[str]) -> list[dict]:
    """Each poll's shares of the ballot options against the official ones. A poll that also counts the
    undecided (or those naming no option) is rescaled to the respondents who named an option, as the
    official shares are of valid votes; the published share is kept beside."""
    official = dict(zip(options, (float(round(s, 2)) for s in national_shares), strict=True))
    rows = []
    for kind, table in (("exit", "exit_polls"), ("opinion", "opinion_polls")):
        polls: dict[str, list[dict]] = {}
        for r in tables[table]:
            polls.setdefault(r["poll_id"], []).append(r)
        for poll_id, answers in polls.items():
            named = [r for r in answers if r["option_id"] in official]
            total = sum(r["share_pct"] for r in named)
            rescale = len(named) < len(answers) and abs(total - 100) > 0.5  # the undecided are in the base
            for r in named:
                decided = round(100 * r["share_pct"] / total, 2) if rescale else r["share_pct"]
                rows.append(
                    {
                        "poll_id": poll_id,
                        "poll_kind": kind,
                        "option_id": r["option_id"],
                        "poll_share_pct": r["share_pct"],
                        "decided_share_pct": decided,
                        "is_rescaled": rescale,
                        "official_share_pct": official[r["option_id"]],
                        "error_pp": round(decided - official[r["option_id"]], 2),
                    }
                )
    return sorted(rows, key=lambda r: (r["poll_id"], r["option_id"]))


def poll_tests(poll_rows: list[dict]) -> list[dict]:
    """One descriptive row of forensic_tests per poll: its mean absolute error (no null model)."""
    tests = []
    for poll_id in sorted({r["poll_id"] for r in poll_rows}):
        rows = [r for r in poll_rows if r["poll_id"] == poll_id]
        mae = sum(abs(r["error_pp"]) for r in rows) / len(rows)
        tests.append(
            {
                "test_id": "poll_error",
                "subject_id": poll_id,
                "unit_level": "poll",
                "units_count": len(rows),
                "statistic_name": "mean absolute error against the official national shares (pp)",
                "observed_value": rounded(mae),
                "expected_value": None,
                "interval_low": None,
                "interval_high": None,
                "interval_kind": None,
                "p_value": None,
                "p_value_method": "descriptive (no null model)",
                "draws_count": None,
                "reading_text": f"{rows[0]['poll_kind'].capitalize()} poll: the official shares of its options "
                f"differ from its own by {mae:.2f} points on average"
                + (
                    " (its shares rescaled to the respondents who named an option)."
                    if any(r["is_rescaled"] for r in rows)
                    else "."
                ),
            }
        )

    return tests
