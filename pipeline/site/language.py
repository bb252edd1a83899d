"""The release's names and the charts' words in each language of the portal. The portal's queries give the
package's English names; a page in Russian or Kazakh shows a region by its official name in that language
(region_names) and a party by its short name in that language where party_names has one (else the
package's own), and the other words its queries give (an option, a kind of seat, a figure) as the
language's file translates them (portal/text/LANG.yaml, `values`). A chart's words are its title and
description (`charts`) and the strings a spec writes as "$t:key" (`chart_words`); its numbers and dates
follow the language's convention (d3's locales, from Babel's CLDR data where d3 has none)."""

from __future__ import annotations

import re

from pipeline.common.errors import PipelineError

_WORD = re.compile(r"\$t:([a-z0-9_]+)")
# Columns of the portal's queries that hold a name or a word, shown in the page's language.
NAME_COLUMNS = {
    "option",
    "party",
    "seat_holder",
    "winner_party",
    "runner_up_party",
    "region",
    "region_name",
    "region_2021",
    "area",
    "kind",
    "figure",
    "holder",
    "fixed",
    "severity",
    "preferred_model",
    "numbers",
}


def names(con, lang: str, texts: dict) -> dict[str, str]:
    """English name -> the language's, for the regions, the parties and the words of `values`."""
    out = dict(texts[lang].get("values", {}))
    if lang == "en":  # (the codes only: the release's names are English)
        return out
    column = {"ru": "name_ru", "kk": "name_kk"}[lang]
    out |= dict(con.execute(f"SELECT region_name, {column} FROM region_names_wide").fetchall())  # noqa: S608
    parties = dict(con.execute("SELECT party_short_name, party_short_name FROM parties").fetchall())
    parties |= dict(
        con.execute(
            "SELECT p.party_short_name, n.local_name FROM parties AS p JOIN party_names AS n USING (party_id) "
            "WHERE n.name_form = 'short' AND n.language_code = ? ORDER BY n.script_code = 'Cyrl'",
            [lang],
        ).fetchall()  # (a Cyrillic short name after a Latin one: the dict keeps the last)
    )
    return out | parties


def translated(table: dict, words: dict[str, str], where: str, strict: bool = True) -> dict:
    """A query's rows with the names of NAME_COLUMNS in the language (others as they are). A name the
    language has no word for is an error, where `strict` (English translates only the codes it has words
    for: its names are the release's own)."""
    rows = []
    for row in table["rows"]:
        for column, value in row.items():
            if strict and column in NAME_COLUMNS and isinstance(value, str) and value not in words:
                raise PipelineError(
                    "site", f"{where}/{table['name']}.sql: no word for {value!r} ({column}) in the language's values"
                )
        rows.append({c: words.get(v, v) if c in NAME_COLUMNS and isinstance(v, str) else v for c, v in row.items()})
    return table | {"rows": rows}


def with_words(node, words: dict, where: str):
    """The spec with every "$t:key" string replaced by the language's chart word."""
    if isinstance(node, dict):
        return {key: with_words(value, words, where) for key, value in node.items()}
    if isinstance(node, list):
        return [with_words(value, words, where) for value in node]
    if isinstance(node, str):
        missing = [key for key in _WORD.findall(node) if key not in words]
        if missing:
            raise PipelineError("site", f"{where}: no chart word {missing[0]!r} in the language's file")
        return _WORD.sub(lambda match: words[match.group(1)], node)
    return node


def d3_locales(lang: str) -> tuple[dict, dict]:
    """d3's number and time locales for the language (Babel's CLDR data)."""
    from babel import Locale
    from babel.dates import get_day_names, get_month_names
    from babel.numbers import get_decimal_symbol, get_group_symbol

    locale = Locale.parse(lang)
    number = {
        "decimal": get_decimal_symbol(lang),
        "thousands": get_group_symbol(lang),
        "grouping": [3],
        "currency": ["", ""],
    }

    def days(width):
        names = get_day_names(width, locale=locale)
        return [names[6]] + [names[i] for i in range(6)]  # d3 starts the week on Sunday

    def months(width, context):
        names = get_month_names(width, context=context, locale=locale)
        return [names[i] for i in range(1, 13)]

    time = {
        "dateTime": "%x, %X",
        "date": "%d.%m.%Y" if lang != "en" else "%-m/%-d/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": days("wide"),
        "shortDays": days("abbreviated"),
        "months": months("wide", "stand-alone"),  # (a month on its own: "март")
        "shortMonths": months("abbreviated", "format"),  # (after a day: "5 мар.")
    }
    return number, time
