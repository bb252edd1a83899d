"""Mutations of the raw snapshot, and how the pipeline answers each one.

`generate(text)` makes a deterministic list of mutations (fixed seed): rows dropped, duplicated and
reordered; columns swapped; headers renamed; footnote markers, extra spaces and no-break spaces
inserted; known alias spellings used; thousands separators changed; one digit of a vote count
altered; cells blanked; two cells of a row swapped; the file truncated; invalid UTF-8; an empty file.
`outcome(data)` runs the real stages in memory (extract, validate, the release's quality gate) and
says whether the release is identical to the baseline, rejected with a clear error, or changed.

Run `python -m tests.mutations` for a summary table.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

SEED = 2023
STAGES = {"raw", "extract", "validate", "check"}


@dataclass(frozen=True)
class Mutation:
    name: str
    kind: str
    apply: Callable[[bytes], bytes]
    # For a changed vote count: (section heading of its table, old value, new value).
    vote_change: tuple[str, int, int] | None = None


def _table_blocks(lines: list[str]) -> list[tuple[str, int, int]]:
    """(section heading, first line index, end index) of every run of pipe rows."""
    blocks, section, start = [], "", None
    for index, line in enumerate(lines + [""]):
        heading = re.match(r"^(=+)\s*(.*?)\s*\1\s*$", line)
        if heading:
            section = heading.group(2)
        is_row = line.lstrip().startswith("|")
        if is_row and start is None:
            start = index
        elif not is_row and start is not None:
            blocks.append((section, start, index))
            start = None
    return blocks


def _header_size(rows: list[str]) -> int:
    """Leading rows without a figure, by the pipeline's own rule (SourceTable.header_rows)."""
    from pipeline.extract.cells import clean
    from pipeline.extract.document import _is_figure

    for count, row in enumerate(rows):
        if any(_is_figure(clean(cell)) for cell in _cells(row)):
            return count
    return len(rows)


def _cells(row: str) -> list[str]:
    return row.strip().strip("|").split("|")


def _join(cells: list[str]) -> str:
    return "|" + "|".join(cells) + "|"


def _text_mutation(name, kind, change, vote_change=None) -> Mutation:
    def apply(data: bytes) -> bytes:
        return change(data.decode("utf-8")).encode("utf-8")

    return Mutation(name, kind, apply, vote_change)


def generate(text: str) -> list[Mutation]:
    rng = random.Random(SEED)
    lines = text.split("\n")
    blocks = [(s, a, b) for s, a, b in _table_blocks(lines) if b - a >= 2]
    mutations: list[Mutation] = []

    def with_lines(new_lines: list[str]) -> Callable[[str], str]:
        return lambda _text: "\n".join(new_lines)

    for section, start, end in blocks:
        rows = lines[start:end]
        head = _header_size(rows)
        data = list(range(start + head, end))
        if not data:
            continue
        label = f"{section} (line {start + 1})"
        for victim in rng.sample(data, min(2, len(data))):
            mutations.append(
                _text_mutation(
                    f"drop row {victim + 1} of {label}", "drop row", with_lines(lines[:victim] + lines[victim + 1 :])
                )
            )
            mutations.append(
                _text_mutation(
                    f"duplicate row {victim + 1} of {label}",
                    "duplicate row",
                    with_lines(lines[: victim + 1] + [lines[victim]] + lines[victim + 1 :]),
                )
            )
        shuffled = [lines[i] for i in data]
        rng.shuffle(shuffled)
        mutations.append(
            _text_mutation(
                f"reorder the rows of {label}", "reorder rows", with_lines(lines[: data[0]] + shuffled + lines[end:])
            )
        )
        header_row = start + max(head - 1, 0)
        cells = _cells(lines[header_row])
        named = [i for i, c in enumerate(cells) if re.search(r"[A-Za-z]{2}", c)]
        if named:
            target = rng.choice(named)
            renamed = cells[:target] + [cells[target].rstrip() + " (new) "] + cells[target + 1 :]
            mutations.append(
                _text_mutation(
                    f"rename header {cells[target].strip()!r} of {label}",
                    "rename header",
                    with_lines(lines[:header_row] + [_join(renamed)] + lines[header_row + 1 :]),
                )
            )
        for row in rng.sample(data, min(3, len(data))):
            row_cells = _cells(lines[row])
            filled = [i for i, c in enumerate(row_cells) if c.strip()]
            if filled:
                blank = rng.choice(filled)
                blanked = row_cells[:blank] + [" "] + row_cells[blank + 1 :]
                mutations.append(
                    _text_mutation(
                        f"blank cell {blank + 1} of row {row + 1} ({row_cells[blank].strip()!r}) in {label}",
                        "blank cell",
                        with_lines(lines[:row] + [_join(blanked)] + lines[row + 1 :]),
                    )
                )
            figures = [i for i, c in enumerate(row_cells) if re.search(r"\d", c)]
            if len(figures) >= 2:
                i, j = rng.sample(figures, 2)
                if row_cells[i].strip() != row_cells[j].strip():
                    swapped = list(row_cells)
                    swapped[i], swapped[j] = swapped[j], swapped[i]
                    mutations.append(
                        _text_mutation(
                            f"swap cells {i + 1} and {j + 1} of row {row + 1} in {label}",
                            "swap cells",
                            with_lines(lines[:row] + [_join(swapped)] + lines[row + 1 :]),
                        )
                    )

    # Columns swapped, header and data together, in the tables with one header row (polls).
    for section, start, end in blocks:
        rows = lines[start:end]
        if _header_size(rows) != 1 or section not in ("Opinion polls", "Exit polls", "Debates"):
            continue
        width = len(_cells(rows[0]))
        if any(len(_cells(r)) != width for r in rows):
            continue
        i, j = rng.sample(range(2, width - 1), 2)

        def swap_columns(_text, start=start, end=end, i=i, j=j):
            new = list(lines)
            for index in range(start, end):
                cells = _cells(new[index])
                cells[i], cells[j] = cells[j], cells[i]
                new[index] = _join(cells)
            return "\n".join(new)

        mutations.append(
            _text_mutation(
                f"swap columns {i + 1} and {j + 1} of {section} (line {start + 1})", "swap columns", swap_columns
            )
        )

    # Harmless variations: footnote markers, spaces, no-break spaces, known aliases.
    for round_ in range(4):

        def footnotes(text, round_=round_):
            local = random.Random(SEED + round_)
            return re.sub(
                r"(?m)(\| [^|\n]*?\S)( \|)",
                lambda m: m.group(1) + (f"[{local.randint(1, 99)}]" if local.random() < 0.3 else "") + m.group(2),
                text,
            )

        mutations.append(
            _text_mutation(f"footnote markers in table cells (round {round_ + 1})", "footnotes", footnotes)
        )
    mutations.append(
        _text_mutation(
            "extra spaces around every table cell",
            "whitespace",
            lambda t: re.sub(r"(?m)^\|(.*)\|$", lambda m: "|" + m.group(1).replace("|", "  |  ") + "|", t),
        )
    )
    mutations.append(
        _text_mutation(
            "no-break spaces around table cells", "whitespace", lambda t: re.sub(r"(?m)\| (?=\S)", "| \u00a0", t)
        )
    )
    mutations.append(
        _text_mutation(
            "'Aqmola Region' for 'Akmola Region' in the turnout table",
            "alias",
            lambda t: t.replace("| Akmola Region | 15.61%", "| Aqmola Region | 15.61%"),
        )
    )
    mutations.append(
        _text_mutation(
            "'Qarağandy Region' for 'Karaganda Region' in the turnout table",
            "alias",
            lambda t: t.replace("| Karaganda Region | 16.31%", "| Qarağandy Region | 16.31%"),
        )
    )

    # Separators and digits of vote counts.
    vote_cells = _vote_cells(lines, blocks)
    for line_index, cell_index, value, _section in rng.sample(vote_cells, 8):

        def separators(_text, line_index=line_index, cell_index=cell_index, value=value):
            new = list(lines)
            cells = _cells(new[line_index])
            cells[cell_index] = cells[cell_index].replace(value, value.replace(",", rng_sep(value)))
            new[line_index] = _join(cells)
            return "\n".join(new)

        mutations.append(_text_mutation(f"separators of {value} (line {line_index + 1})", "separators", separators))
    for line_index, cell_index, value, section in rng.sample(vote_cells, 50):
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        position = rng.choice(digits)
        new_digit = rng.choice([d for d in "0123456789" if d != value[position]])
        changed = value[:position] + new_digit + value[position + 1 :]

        def alter(_text, line_index=line_index, cell_index=cell_index, value=value, changed=changed):
            new = list(lines)
            cells = _cells(new[line_index])
            cells[cell_index] = cells[cell_index].replace(value, changed, 1)
            new[line_index] = _join(cells)
            return "\n".join(new)

        old_votes, new_votes = int(value.replace(",", "")), int(changed.replace(",", ""))
        mutations.append(
            _text_mutation(
                f"vote count {value} -> {changed} (line {line_index + 1}, {section})",
                "alter digit",
                alter,
                vote_change=(section, old_votes, new_votes),
            )
        )

    # The file itself.
    size = len(text.encode("utf-8"))
    for fraction in (0.05, 0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.99):
        cut = int(size * fraction)
        mutations.append(Mutation(f"truncate at {fraction:.0%} ({cut} bytes)", "truncate", lambda d, cut=cut: d[:cut]))
    mutations.append(
        Mutation(
            "invalid UTF-8 inside a table",
            "invalid utf-8",
            lambda d: d.replace(b"| Pavlodar Region |", b"| Pavlodar \xff Region |"),
        )
    )
    mutations.append(Mutation("empty file", "empty", lambda d: b""))
    return mutations


def rng_sep(value: str) -> str:
    return "." if len(value) % 2 else " "


_VOTES = re.compile(r"\d{1,3}(?:,\d{3})+|\d{4,}")


def _vote_cells(lines: list[str], blocks) -> list[tuple[int, int, str, str]]:
    """(line, cell, text of the number, section) of the vote counts in the party-list and district tables."""
    found = []
    for section, start, end in blocks:
        if section not in ("Party-list vote", "Constituency vote"):
            continue
        for index in range(start + _header_size(lines[start:end]), end):
            for cell_index, cell in enumerate(_cells(lines[index])):
                if section == "Party-list vote" and "%" not in cell and _VOTES.fullmatch(cell.strip()):
                    found.append((index, cell_index, cell.strip(), section))
                elif section == "Constituency vote":
                    match = re.search(r"\((\d[\d,]*) votes\)", cell)
                    if match:
                        found.append((index, cell_index, match.group(1), section))
                    elif _VOTES.fullmatch(cell.strip()):
                        found.append((index, cell_index, cell.strip(), section))
    return found


_TEMPLATE = {}  # in-memory release databases, one per process: "baseline" (loaded) and "empty"
_VALIDATED: dict = {}  # the tables validated in "baseline", by content: a mutation changes one or two of 29
_VALIDATED_EMPTY: dict = {}  # the same for "empty"


def _database(package, name: str):
    from pipeline.publish.database import create_database

    if name not in _TEMPLATE:
        _TEMPLATE[name] = create_database(":memory:", package)
        # One thread: the other test workers have the other core; DuckDB's own threads only add overhead
        # here (about 10 % of the suite's CPU time, measured).
        _TEMPLATE[name].execute("SET threads = 1")
    return _TEMPLATE[name]


def _referenced(package) -> set[str]:
    """The tables another table's foreign key names."""
    return {fk["reference"]["resource"] for r in package.resources for fk in r.foreign_keys} - {""}


def _load_changed(con, validated, package, changed: set[str]) -> None:
    """Inside the caller's transaction, on the release database holding the baseline (committed): the
    changed tables' rows replaced by the mutation's, as load_tables would insert them (the keys enforced).
    The changed tables are ones no foreign key names (the caller checks): the rest, unchanged, are the
    rows load_tables would insert again."""
    from pipeline.publish.database import load_tables

    subset = metadata_subset(package, changed)
    for resource in subset.resources:
        con.execute(f"DELETE FROM {resource.name}")
    load_tables(con, validated, subset)


def metadata_subset(package, names: set[str]):
    """The package with only the named tables (in its order), for load_tables (no longer the package its
    schema files make: `source` cleared, so that the build cache knows it by nothing)."""
    import dataclasses

    resources = tuple(r for r in package.resources if r.name in names)
    return dataclasses.replace(package, resources=resources, source="")


def outcome(data: bytes, baseline_tables: dict | None = None):
    """('published', signature) or ('rejected', PipelineError); other exceptions propagate. The real
    stages: extract, validate, load into the release's DDL (in a transaction rolled back afterwards),
    and the release's quality gate. Where the extracted tables equal `baseline_tables` (the unmutated
    article's, whose outcome this process computed before), the later stages, which depend only on them,
    would give the baseline's outcome: ('identical', None) without running them; otherwise only the
    tables that differ from the baseline's are loaded (into a database holding the baseline) and only the
    checks that read them run again."""
    from pipeline import metadata
    from pipeline.checks.run import run_checks
    from pipeline.common.errors import PipelineError
    from pipeline.extract import parse_bytes
    from pipeline.publish.database import load_tables
    from pipeline.publish.staging import verify_release
    from pipeline.stages import document_tables
    from pipeline.validate import validate

    package = metadata.load()
    try:
        tables = document_tables(parse_bytes(data, "mutated.txt"))
        if baseline_tables is not None and tables == baseline_tables:
            return "identical", None
        changed = None
        if baseline_tables is not None:  # the validated tables, the derived ones included, against the baseline's
            changed = {name for name, rows in tables.items() if rows != _BASELINE["tables"].get(name)}
        if changed is None or changed & _referenced(package):  # everything loaded into an empty database
            con = _database(package, "empty")
            validated = validate(tables, package, con, memo=_VALIDATED_EMPTY)
            con.execute("BEGIN TRANSACTION")
            try:
                load_tables(con, validated, package)
                if changed is None:
                    quality = verify_release(con, validated, package)
                    _BASELINE["findings"] = _by_check(run_checks(con))
                    _BASELINE["tables"] = validated.tables
                else:
                    quality = _gate_rerunning_only(con, validated, package, changed)
            finally:
                con.execute("ROLLBACK")
        else:  # only the changed tables replaced, in the database holding the baseline
            con = _baseline_database(package)
            validated = validate(tables, package, con, memo=_VALIDATED)
            con.execute("BEGIN TRANSACTION")
            try:
                _load_changed(con, validated, package, changed)
                quality = _gate_rerunning_only(con, validated, package, changed)
            finally:
                con.execute("ROLLBACK")
    except PipelineError as error:
        return "rejected", error
    signature = {name: _csv(package.resource(name), records) for name, records in tables.items()}
    signature["quality_checks"] = repr(sorted(map(repr, quality)))
    return "published", signature


def _baseline_database(package):
    """The release database with the baseline's tables loaded and committed (once per process)."""
    from pipeline.publish.database import load_tables
    from pipeline.validate import validate

    con = _database(package, "baseline")
    if "loaded" not in _BASELINE:
        validated = validate(_BASELINE["tables"], package, con, memo=_VALIDATED)
        con.execute("BEGIN TRANSACTION")
        load_tables(con, validated, package)
        con.execute("COMMIT")
        _BASELINE["loaded"] = True
    return con


_BASELINE: dict = {}  # the unmutated article's validated tables, and its findings by check id


def _by_check(findings) -> dict:
    grouped: dict = {}
    for finding in findings:
        grouped.setdefault(finding.check.id, []).append(finding.row)
    return grouped


_READS: dict[tuple, set[str] | None] = {}


def _reads(sql: str, package) -> set[str] | None:
    """The tables a query reads, as the build itself finds them (pipeline.checks.run.reads: DuckDB's parse
    tree, views expanded); None when it may read more than tables. Once per query and package."""
    from pipeline.checks.run import Contents, reads

    memo = (sql, package.source or id(package))  # a package made in memory: known by itself
    if memo not in _READS:
        tables = {r.name: "" for r in package.resources}
        _READS[memo] = reads(sql, Contents("", tables, {view.name: view.sql for view in package.views}, None))
    return _READS[memo]


def _gate_rerunning_only(con, validated, package, changed: set[str]) -> list[dict]:
    """verify_release's quality gate, with the checks whose tables are all unchanged given the baseline's
    findings instead of being run again (the same query on the same rows); the others run."""
    from pipeline.checks.quality import assess, check_gaps, load_acknowledgements
    from pipeline.checks.run import Finding, _run, load_checks
    from pipeline.extract.errata import errata_resolves

    check_gaps(validated.tables["source_gaps"])
    checks = load_checks()
    findings = []
    for check in checks:
        reads = _reads(check.sql, package)
        if reads is None or reads & changed:
            findings += _run(con, [check])
        else:
            findings += [Finding(check, row) for row in _BASELINE["findings"].get(check.id, [])]
    return assess(checks, findings, validated.tables["errata"], errata_resolves(), load_acknowledgements())


def _csv(resource, records: list[dict]) -> str:
    """A table as CSV text, rows in key order like the published files."""
    out = io.StringIO()
    writer = csv.DictWriter(out, resource.field_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(records, key=lambda r: [r[k] for k in resource.primary_key]))
    return out.getvalue()


def run_suite(data: bytes) -> tuple[list[tuple[Mutation, str, object]], dict]:
    """Every mutation with its result: 'identical', 'rejected' or 'changed'."""
    from pipeline.extract import parse_bytes
    from pipeline.stages import document_tables

    if "baseline" in _TEMPLATE:  # a database loaded with another baseline: started again
        _TEMPLATE.pop("baseline").close()
    _BASELINE.clear()
    _VALIDATED.clear()
    _, baseline = outcome(data)  # (outcome without baseline_tables records the baseline's tables and findings)
    baseline_tables = document_tables(parse_bytes(data, "mutated.txt"))
    results = []
    for mutation in generate(data.decode("utf-8")):
        status, detail = outcome(mutation.apply(data), baseline_tables)
        if status == "published":
            status = "identical" if detail == baseline else "changed"
        results.append((mutation, status, detail))
    return results, baseline


def main() -> None:
    from tests.conftest import SOURCE

    results, _ = run_suite(SOURCE.read_bytes())
    kinds: dict[str, dict[str, int]] = {}
    for mutation, status, _detail in results:
        kinds.setdefault(mutation.kind, {}).setdefault(status, 0)
        kinds[mutation.kind][status] += 1
    print(f"{len(results)} mutations")
    for kind, counts in kinds.items():
        print(f"  {kind:<15} " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for mutation, status, _detail in results:
        if status == "changed":
            print(f"  CHANGED: {mutation.name}")


if __name__ == "__main__":
    main()
