"""Official names of the regions and parties (sources/names.yaml) -> the tables region_names and party_names.

Every name comes with the page that writes it and a verbatim quote; the Kazakh names in Latin letters are
transliterated here from the Kazakh Cyrillic by the 2021 Latin alphabet (no page of the time writes them:
the government's own Latin pages used the 2018 alphabet) and marked as transliterated.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.extract.independent import read_source

NAMES_FILE = ROOT / "sources" / "names.yaml"
NAME_KEYS = {"language", "script", "form", "name", "url", "publisher", "quote"}
FORMS = {"regions": {"official", "common"}, "parties": {"official_full", "short"}}
_QUOTE_MARKS = str.maketrans({c: '"' for c in '«»“”„"'} | {"’": "'"})
# The Kazakh Latin alphabet of 2021 (approved by the government on 28 January 2021), letter by letter from
# the Cyrillic. Letters outside it (ё, ц, ч, щ, ъ, ь, э, ю, я, only in borrowed words) have no rule here: a
# name that needs one stops the build rather than be guessed.
KAZAKH_LATIN_2021 = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e", "ж": "j", "з": "z",
    "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n", "ң": "ñ", "о": "o", "ө": "ö",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū", "ү": "ü", "ф": "f", "х": "h", "һ": "h",
    "ш": "ş", "ы": "y", "і": "ı",
}  # fmt: skip
_UPPER = {"i": "İ", "ı": "I"}  # the dotted and dotless i keep their dot in capitals
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def transliterate_kazakh(text: str) -> str:
    """Kazakh Cyrillic -> the 2021 Latin alphabet: 'Ұлытау облысы' -> 'Ūlytau oblysy'."""
    out = []
    for char in text:
        lower = char.lower()
        if lower not in KAZAKH_LATIN_2021:
            if re.match(r"[а-яёәғқңөұүһі]", lower):
                raise ValueError(f"no rule of the 2021 alphabet for {char!r} in {text!r}")
            out.append(char)
            continue
        latin = KAZAKH_LATIN_2021[lower]
        out.append(latin if char == lower else _UPPER.get(latin, latin.upper()))
    return "".join(out)


def read_names(region_ids: list[str], party_ids: list[str], path: Path = NAMES_FILE) -> dict[str, list[dict]]:
    """The tables region_names and party_names, every name checked: a known region or party, a known
    language, script and form, letters of its script only within a word, its quote under 200 characters
    and containing it (with a note saying how the quote writes it otherwise), and a Kazakh Latin form
    generated for every Kazakh Cyrillic official name of a region."""
    content = read_source(path) if path.exists() else {}
    if not isinstance(content, dict):
        raise _error(path, "region_names", "the file must be a mapping with 'regions' and 'parties'")
    tables = {}
    for kind, key, table, known in (
        ("regions", "region_id", "region_names", region_ids),
        ("parties", "party_id", "party_names", party_ids),
    ):
        rows = []
        for entry in content.get(kind) or []:
            owner = entry.get(key) if isinstance(entry, dict) else None
            if owner not in known:
                raise _error(path, table, f"unknown {key} {owner!r}")
            for number, name in enumerate(entry.get("names") or [], start=1):
                rows += _rows(name, key, owner, kind, path, table, f"{owner}, name #{number}")
        tables[table] = sorted(rows, key=lambda r: (r[key], r["language_code"], r["script_code"], r["name_form"]))
    return tables


def _rows(name: dict, key: str, owner: str, kind: str, path: Path, table: str, where: str) -> list[dict]:
    if not isinstance(name, dict) or not NAME_KEYS <= set(name) or set(name) - NAME_KEYS - {"note"}:
        raise _error(path, table, f"{where}: needs exactly {', '.join(sorted(NAME_KEYS))} (and an optional note)")
    if not all(isinstance(name[k], str) for k in ("language", "script", "form", "name", "quote")):
        raise _error(path, table, f"{where}: language, script, form, name and quote must be text")
    if name["form"] not in FORMS[kind]:
        raise _error(path, table, f"{where}: form {name['form']!r} is not one of {', '.join(sorted(FORMS[kind]))}")
    mixed = [word for word in re.findall(r"\w+", name["name"]) if _LATIN.search(word) and _CYRILLIC.search(word)]
    if mixed:
        raise _error(path, table, f"{where}: {mixed[0]!r} mixes Latin and Cyrillic letters (a look-alike letter)")
    quote = " ".join(name["quote"].split())
    written = name["name"].translate(_QUOTE_MARKS).lower() in quote.translate(_QUOTE_MARKS).lower()
    longest = max(re.findall(r"\w+", name["name"]), key=len).lower()
    if len(quote) > 199 or not (written or (name.get("note") and longest in quote.lower())):
        raise _error(
            path,
            table,
            f"{where}: the quote must be under 200 characters and contain {name['name']!r} (or, with a note "
            f"saying how it writes it, at least {longest!r})",
        )
    row = {
        key: owner,
        "language_code": name["language"],
        "script_code": name["script"],
        "name_form": name["form"],
        "local_name": name["name"],
        "is_transliterated": False,
        "source_url": name["url"],
        "source_publisher_name": name["publisher"],
        "source_quote_text": quote,
        "note_text": name.get("note"),
    }
    rows = [row]
    if kind == "regions" and row["language_code"] == "kk" and row["script_code"] == "Cyrl":
        try:
            latin = transliterate_kazakh(row["local_name"])
        except ValueError as error:
            raise _error(path, table, f"{where}: {error}") from None
        rows.append(
            row
            | {
                "script_code": "Latn",
                "local_name": latin,
                "is_transliterated": True,
                "source_quote_text": None,
                "note_text": "Transliterated by the package from the Kazakh Cyrillic name by the 2021 Latin alphabet.",
            }
        )
    return rows


def _error(path: Path, table: str, message: str) -> PipelineError:
    return PipelineError("extract", f"{path.name}: {message}.", table=table)
