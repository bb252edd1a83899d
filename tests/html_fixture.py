"""Render the text snapshot as the HTML Wikipedia serves (a test fixture for the HTML front end).

The structure follows what MediaWiki's parser produces for this article: headings wrapped in
`div.mw-heading`, `table.wikitable` with two- and three-row headers using rowspan and colspan, the
region and seat cells of the district table spanning the region's districts, 'New' spanning both
2021 result cells, captions, the infobox as a table of per-party rows in blocks of three, footnote
links (`sup.reference`), `data-sort-value` attributes, hidden sort keys, non-breaking spaces in
numbers and edit-section links. The cell text is the snapshot's, so both front ends must extract
the same tables.
"""

from __future__ import annotations

import html
import re

FOOTNOTE = '<sup class="reference" id="cite_ref-{n}"><a href="#cite_note-{n}">[{n}]</a></sup>'


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def cell(tag: str, text: str, **attrs) -> str:
    attributes = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<{tag}{attributes}>{text}</{tag}>"


def number_cell(text: str, footnote: int | None = None) -> str:
    """A figure as Wikipedia writes it: a sort key attribute, non-breaking space before a %, a footnote."""
    sort = re.sub(r"[^\d.]", "", text)
    body = re.sub(r"(\d)%", r"\1&nbsp;%", esc(text))  # Wikipedia's templates put a no-break space before %
    if footnote:
        body += FOOTNOTE.format(n=footnote)
    return cell("td", body, data_sort_value=sort) if sort else cell("td", body)


def split_row(line: str) -> list[str]:
    body = line.strip()[1:]
    body = body[:-1] if body.endswith("|") else body
    return [c.strip() for c in body.split("|")]


def trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


def th_row(cells: list[tuple[str, dict]]) -> str:
    return "<tr>" + "".join(cell("th", esc(text), **attrs) for text, attrs in cells) + "</tr>"


def plain_table(rows: list[list[str]], caption: str = "") -> str:
    head, *body = rows
    out = ['<table class="wikitable sortable">']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append(th_row([(c, {}) for c in trim(head)]))
    width = len(trim(head))
    for number, row in enumerate(body):
        cells = (trim(row) + [""] * width)[: max(width, len(trim(row)))]
        out.append(
            "<tr>"
            + "".join(
                number_cell(c, footnote=7 if number == 0 and i == 1 else None)
                if re.search(r"\d", c)
                else cell("td", esc(c))
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def party_list_table(rows: list[list[str]], caption: str) -> str:
    head, _sub, *body = rows
    labels = trim(head)
    out = ['<table class="wikitable sortable">', f"<caption>{esc(caption)}</caption>"]
    first, second = [], []
    for label in labels:
        if label in ("Region", "Registered voters", "Invalid/ blank"):
            first.append((label, {"rowspan": 2}))
        else:
            first.append((label, {"colspan": 2}))
            second += [("Votes", {}), ("%", {})]
    out += [th_row(first), th_row(second)]
    for row in body:
        label, *figures = row
        name = (
            (
                f'<span class="sortkey" style="display:none">{esc(label)}</span>'
                f'<a href="/wiki/{esc(label).replace(" ", "_")}">{esc(label)}</a>'
            )
            if label
            else ""
        )
        tag = "th" if not label else "td"
        out.append(
            "<tr>"
            + cell(tag, name)
            + "".join(
                number_cell(f, footnote=3 if label == "Abai Region" and i == 0 else None) for i, f in enumerate(figures)
            )
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def turnout_table(rows: list[list[str]]) -> str:
    head, times, *body = rows
    times = trim(times)
    out = [
        '<table class="wikitable sortable">',
        th_row([("Region", {"rowspan": 2}), ("Time", {"colspan": len(times)})]),
        th_row([(t, {}) for t in times]),
    ]
    for row in body:
        label, *figures = row
        out.append(
            "<tr>"
            + cell("td", "<b></b>" if label in ("", "'") else esc(label))
            + "".join(number_cell(f) for f in figures)
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def district_table(rows: list[list[str]], caption: str) -> str:
    body = rows[2:]
    groups: list[list[list[str]]] = []
    for row in body:
        if not re.fullmatch(r"\d+", row[0]):
            groups.append([row])
        else:
            groups[-1].append(row)
    out = [
        '<table class="wikitable sortable">',
        f"<caption>{esc(caption)}</caption>",
        th_row([("Constituency", {"colspan": 3}), ("Elected deputy", {"colspan": 5}), ("Runner-up", {"rowspan": 2})]),
        th_row(
            [
                ("Region", {}),
                ("No.", {}),
                ("Total seats", {}),
                ("Candidate", {"colspan": 2}),
                ("Party", {}),
                ("Votes", {}),
                ("%", {}),
            ]
        ),
    ]
    for group in groups:
        span = len(group)
        for index, row in enumerate(group):
            if index == 0:
                region, number, seats, _swatch, name, party, votes, pct, runner = trim(row)[:9] + [""] * (
                    9 - len(trim(row)[:9])
                )
                lead = (
                    cell("td", f'<a href="/wiki/{esc(region)}">{esc(region)}</a>', rowspan=span)
                    + number_cell(number)
                    + number_cell(seats).replace("<td", f'<td rowspan="{span}"', 1)
                )
            else:
                number, _swatch, name, party, votes, pct, runner = trim(row)[:7]
                lead = number_cell(number)
            out.append(
                "<tr>"
                + lead
                + cell("td", "", style="background-color:#1E90FF")
                + cell("td", esc(name))
                + cell("td", esc(party))
                + number_cell(votes)
                + number_cell(pct)
                + cell("td", esc(runner))
                + "</tr>"
            )
    out.append("</table>")
    return "\n".join(out)


def parties_table(rows: list[list[str]]) -> str:
    out = [
        '<table class="wikitable">',
        th_row(
            [
                ("Name", {"colspan": 3, "rowspan": 2}),
                ("No.", {"rowspan": 2}),
                ("Ideology", {"rowspan": 2}),
                ("Position", {"rowspan": 2}),
                ("Leader", {"rowspan": 2}),
                ("2021 result", {"colspan": 2}),
                ("Political stance", {"rowspan": 2}),
            ]
        ),
        th_row([("Votes (%)", {}), ("Seats", {})]),
    ]
    for row in rows[2:]:
        swatch, short, full, number, ideology, position, leader, result, *rest = row
        cells = [
            cell("td", "", style="background:#00AEEF"),
            cell("td", esc(short)),
            cell("td", esc(full)),
            number_cell(number),
            cell("td", esc(ideology)),
            cell("td", esc(position)),
            cell("td", esc(leader)),
        ]
        if "%" in result:
            cells += [number_cell(result), cell("td", esc(rest[0])), cell("td", esc(rest[1]))]
        else:
            cells += [cell("td", esc(result), colspan=2), cell("td", esc(rest[0]))]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def candidates_table(rows: list[list[str]]) -> str:
    out = [
        '<table class="wikitable">',
        th_row(
            [
                ("Party", {"colspan": 2, "rowspan": 2}),
                ("No. 1 in party list", {"rowspan": 2}),
                ("No. of candidates", {"colspan": 2}),
                ("Total", {"rowspan": 2}),
                ("Party list registration", {"rowspan": 2}),
            ]
        ),
        th_row([("Party list", {}), ("Single-member district", {})]),
    ]
    for row in rows[2:]:
        cells = trim(row)
        if cells[1] == "Independents":
            out.append(
                "<tr>"
                + cell("td", "")
                + cell("td", "Independents")
                + cell("td", "", colspan=2).replace("<td", "<td", 1).replace("></td>", "></td>")
                + "</tr>"
            )
            out[-1] = (
                "<tr>"
                + cell("td", "")
                + cell("td", "Independents")
                + cell("td", "")
                + cell("td", esc(cells[3]), colspan=2)
                + cell("td", "")
                + cell("td", "")
                + "</tr>"
            )
            continue
        out.append(
            "<tr>"
            + cell("td", "", style="background:#00AEEF")
            + "".join(number_cell(c) if re.fullmatch(r"[\d,]+", c) else cell("td", esc(c)) for c in cells[1:])
            + "</tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def debates_table(rows: list[list[str]]) -> str:
    title, head, parties, *body = rows
    parties = trim(parties)
    out = [
        '<table class="wikitable">',
        th_row([(trim(title)[0], {"colspan": 7 + len(parties)})]),
        th_row(
            [(h, {"rowspan": 2}) for h in trim(head)[:5]]
            + [("", {"colspan": len(parties)})]
            + [(h, {"rowspan": 2}) for h in ("Duration", "Source")]
        ),
        th_row([(p, {}) for p in parties]),
    ]
    for row in body:
        cells = row[: 7 + len(parties)]
        out.append("<tr>" + "".join(cell("td", esc(c)) for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def districts_layout(rows: list[list[str]]) -> str:
    """The 'Electoral districts' table: two wikitables side by side in a layout table."""
    halves, current = [], []
    for row in rows:
        if row in (["", "Region"], ["Region", "Deputies"]) and current:
            halves.append(current)
            current = []
        current.append(row)
    halves.append(current)
    inner = [plain_table(half) for half in halves]
    return (
        '<table role="presentation"><tr>'
        + "".join(f'<td style="vertical-align:top">{t}</td>' for t in inner)
        + "</tr></table>"
    )


INFOBOX_ROWS = [
    ("Leader", "Leader"),
    ("Party", "Party"),
    ("Last election", "Last Election"),
    ("Seats won", "Seats"),
    ("Seat change", "Seat Change"),
    ("Popular vote", "Popular Vote"),
    ("Percentage", "Percentage"),
    ("Swing", "Swing"),
]


def infobox(values: dict[str, str]) -> str:
    parties = sorted(int(k[5:]) for k in values if re.fullmatch(r"Party\d+", k))
    out = [
        '<table class="infobox vevent">',
        f'<tr><th colspan="4">{esc(values.get("Election Date", ""))}</th></tr>',
        f'<tr><th>Seats for election</th><td colspan="3">{esc(values.get("Seats For Election", ""))}</td></tr>',
        f'<tr><th>Registered</th><td colspan="3">{esc(values.get("Registered", ""))}</td></tr>',
        f'<tr><th>Turnout</th><td colspan="3">{esc(values.get("Turnout", ""))}'
        f'<span typeof="mw:File"><img alt="Decrease" src="x.svg"></span></td></tr>',
    ]
    for start in range(0, len(parties), 3):
        block = parties[start : start + 3]
        out.append("<tr>" + "".join(f'<td><img alt="" src="leader{n}.jpg"></td>' for n in block) + "</tr>")
        for label, key in INFOBOX_ROWS:
            texts = []
            for n in block:
                text = values.get(f"{key}{n}", "")
                if key == "Party":
                    text = re.sub(r"\s*\([^)]*\)$", "", text)
                texts.append(esc(text))
            out.append(f"<tr><th>{label}</th>" + "".join(f"<td>{t}</td>" for t in texts) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def render(text: str, fragment: bool = False) -> str:
    """The whole article as HTML; with fragment=True only the parser output, as the API's parse.text."""
    lines = text.splitlines()
    out = [
        "<!DOCTYPE html>",
        "<html><head><title>2023 Kazakh legislative election</title></head><body>",
        '<div class="mw-content-ltr mw-parser-output" lang="en" dir="ltr">',
    ]
    infobox_values: dict[str, str] = {}
    index = 0
    pending_caption = ""
    list_items: list[str] = []

    def flush_list():
        if list_items:
            out.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in list_items) + "</ul>")
            list_items.clear()

    while index < len(lines):
        line = lines[index]
        heading = re.match(r"^(=+)\s*(.*?)\s*\1\s*$", line)
        if heading:
            flush_list()
            level = len(heading.group(1))
            if level == 1:
                out.append(f"<h1>{esc(heading.group(2))}</h1>")
            else:
                out.append(
                    f'<div class="mw-heading mw-heading{level}"><h{level} id="{heading.group(2).replace(" ", "_")}">'
                    f'{esc(heading.group(2))}</h{level}><span class="mw-editsection">[edit]</span></div>'
                )
            index += 1
            continue
        if line.strip() == "Infobox":
            index += 1
            while index < len(lines) and lines[index].startswith("- "):
                key, _, value = lines[index][2:].partition(":")
                infobox_values[key.strip()] = value.strip()
                index += 1
            out.append(infobox(infobox_values))
            continue
        if line.lstrip().startswith("|"):
            flush_list()
            block = []
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                block.append(lines[index])
                index += 1
            rows = [split_row(row) for row in block if row.strip() not in ("|", "|}") and "style=" not in row]
            first = " | ".join(rows[0])
            if "Registered voters" in first:
                out.append(party_list_table(rows, pending_caption))
            elif first.startswith("Region | Time"):
                out.append(turnout_table(rows))
            elif "Constituency" in first:
                out.append(district_table(rows, pending_caption))
            elif first.startswith("Name | No."):
                out.append(parties_table(rows))
            elif "No. 1 in party list" in first:
                out.append(candidates_table(rows))
            elif "debates" in first:
                out.append(debates_table(rows))
            elif rows[0] == ["", "Region"]:
                out.append(districts_layout(rows))
            else:
                out.append(plain_table(rows, pending_caption))
            pending_caption = ""
            continue
        caption = re.match(r"^\s*-\s+(.*?)\*\*\s*$", line)
        if caption:
            flush_list()
            pending_caption = caption.group(1)
        elif line.startswith("- "):
            list_items.append(line[2:])
        elif line.strip():
            flush_list()
            out.append(f"<p>{esc(line.strip())}</p>")
        index += 1
    flush_list()
    out += ["</div>", "</body></html>"]
    if fragment:
        out = [line for line in out[2:-1] if not line.startswith("<h1>")]
    return "\n".join(out)
