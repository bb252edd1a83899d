"""The portal's words and numbers in each of its languages. Interface text is translated once, in one
reviewed file per language (portal/text/LANG.yaml: the same keys in each); a column's English heading is
its title in schemas/fields.yaml (or, for a name only the portal's queries give, portal/text/en.yaml),
and its heading in Russian and Kazakh is in their files. Numbers and dates follow each language's
convention (Babel's CLDR data: 3,431,510 and 53.90 in English; 3 431 510 and 53,90 in Russian and
Kazakh); a share keeps the decimals it was published with (the most of its column, at most two), any other
number its own (decimals)."""

from __future__ import annotations

import datetime
import decimal
import re
from pathlib import Path

from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml

LANGUAGES = ("en", "ru", "kk")
NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}  # each in its own language, for the switch
LOCALES = {"en": "en_GB", "ru": "ru", "kk": "kk"}  # Babel's: English as written outside the US (19 March 2023)
MAX_DECIMALS = 4
# Integer columns written without a thousands separator: codes and years, not quantities.
_PLAIN_INTEGERS = ("_id", "_number", "year")


def load(portal: Path) -> dict[str, dict]:
    """Each language's reviewed file; the same keys in every one, each text with the same placeholders as
    the English (a key missing from one, or a figure a translation dropped or misnamed, is an error)."""
    texts = {lang: read_yaml(portal / "text" / f"{lang}.yaml", strict=True, stage="site") for lang in LANGUAGES}
    english = _leaves(texts["en"])
    for lang, text in texts.items():
        leaves = _leaves(text)
        # a language's own: the headings of every column (English takes the schema's titles) and the words
        # of the queries (`values`)
        own = {key for key in english.keys() ^ leaves.keys() if key.startswith(("columns.", "values."))}
        missing, extra = english.keys() - leaves.keys() - own, leaves.keys() - english.keys() - own
        if missing or extra:
            raise PipelineError(
                "site",
                f"portal/text/{lang}.yaml: keys missing {sorted(missing)[:5]}, not in en.yaml {sorted(extra)[:5]}",
            )
        for key in sorted(english.keys() & leaves.keys()):
            filled, in_english = (sorted(_PLACEHOLDER.findall(str(t[key]))) for t in (leaves, english))
            if filled != in_english:
                raise PipelineError(
                    "site", f"portal/text/{lang}.yaml: {key} fills in {filled}, the English {in_english}"
                )
    return texts


_PLACEHOLDER = re.compile(r"\{([a-z_0-9]*)\}|[{}]")  # a value a text is filled with, or a stray brace


def _leaves(node, prefix: str = "") -> dict:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out |= _leaves(value, f"{prefix}{key}.")
        return out or {prefix: None}
    return {prefix.rstrip("."): node}


def heading(column: str, lang: str, texts: dict, titles: dict[str, str]) -> str:
    """A column's heading: the language's own, else (English) the portal's, else the schema's title."""
    own = texts[lang].get("columns", {}).get(column)
    if own:
        return own
    if lang == "en" and column in titles:
        return titles[column]
    raise PipelineError("site", f"portal/text/{lang}.yaml: no heading for the column {column!r}")


def decimals(rows: list[dict], column: str) -> int | None:
    """The decimals a column's numbers are shown with: for a share or a difference of shares (`_pct`,
    `_pp`), the most any of its values has and at most two, the most the sources publish (so 58.00 beside
    57.02, and a share the package computes, such as seat_allocation's, as the source would print it);
    for any other number None: each value with its own (a test's observed 140 beside its p-value)."""
    if not column.endswith(("_pct", "_pp")):
        return None
    most = 0
    for row in rows:
        value = row[column]
        if isinstance(value, float):
            exponent = decimal.Decimal(repr(value)).as_tuple().exponent
            most = max(most, -exponent if isinstance(exponent, int) else 0)
    return min(most, 2)


def cell(value, column: str, places: int | None, lang: str, texts: dict) -> str:
    """One value as a reader of that language writes it."""
    from babel.dates import format_date
    from babel.numbers import format_decimal, format_scientific

    if value is None:
        return ""
    if isinstance(value, bool):
        return texts[lang]["ui"]["answer_yes" if value else "answer_no"]
    locale = LOCALES[lang]
    if isinstance(value, int):
        return str(value) if column.endswith(_PLAIN_INTEGERS) else format_decimal(value, "#,##0", locale=locale)
    if isinstance(value, float):
        if "p_value" in column:  # a probability: its first digits (1.2E-111, 0.41)
            if 0 < abs(value) < 0.001:
                return format_scientific(value, "0.0E0", locale=locale)
            return format_decimal(value, "0.###", locale=locale)
        if places is None:  # its own decimals, at most MAX_DECIMALS
            exponent = decimal.Decimal(repr(value)).as_tuple().exponent
            places = 0 if value.is_integer() or not isinstance(exponent, int) else min(MAX_DECIMALS, -exponent)
        return format_decimal(value, "#,##0." + "0" * places if places else "#,##0", locale=locale)
    if isinstance(value, datetime.date):
        return format_date(value, "long", locale=locale)
    return str(value)
