"""Official names in Kazakh and Russian (sources/names.yaml): sourced, complete, and with the Kazakh letters."""

from __future__ import annotations

import re

import pytest

from pipeline.common.errors import PipelineError
from pipeline.extract.names import read_names, transliterate_kazakh

REGIONS_KK = {  # the Kazakh-specific letters are where they belong (a Russian У for Ұ would be wrong)
    "KZ-11": "Ақмола облысы",
    "KZ-15": "Ақтөбе облысы",
    "KZ-33": "Жетісу облысы",
    "KZ-35": "Қарағанды облысы",
    "KZ-47": "Маңғыстау облысы",
    "KZ-59": "Солтүстік Қазақстан облысы",
    "KZ-61": "Түркістан облысы",
    "KZ-62": "Ұлытау облысы",
    "KZ-63": "Шығыс Қазақстан облысы",
    "KZ-71": "Астана қаласы",
}


def names_of(tables, table, key, owner):
    return {(r["language_code"], r["script_code"], r["name_form"]): r for r in tables[table] if r[key] == owner}


@pytest.mark.parametrize(
    "cyrillic, latin",
    [
        ("Ұлытау облысы", "Ūlytau oblysy"),
        ("Шығыс Қазақстан облысы", "Şyğys Qazaqstan oblysy"),
        ("Маңғыстау облысы", "Mañğystau oblysy"),
        ("Солтүстік Қазақстан облысы", "Soltüstık Qazaqstan oblysy"),
        ("Абай облысы", "Abai oblysy"),
        ("Ақтөбе", "Aqtöbe"),
        ("Іле Ишим", "Ile İşim"),
    ],
)
def test_kazakh_is_transliterated_by_the_2021_alphabet(cyrillic, latin):
    assert transliterate_kazakh(cyrillic) == latin


def test_a_letter_without_a_rule_is_refused_not_guessed():
    with pytest.raises(ValueError, match="no rule of the 2021 alphabet for 'ц'"):
        transliterate_kazakh("Ақмола облыстық центр")


def test_every_region_and_party_has_its_names(tables):
    for region in tables["regions"]:
        names = names_of(tables, "region_names", "region_id", region["region_id"])
        assert {("kk", "Cyrl", "official"), ("kk", "Latn", "official"), ("ru", "Cyrl", "official")} <= set(names)
    for party in tables["parties"]:
        names = names_of(tables, "party_names", "party_id", party["party_id"])
        assert {
            ("kk", "Cyrl", "official_full"),
            ("ru", "Cyrl", "official_full"),
            ("en", "Latn", "official_full"),
        } <= set(names)
        assert any(form == "short" for _, _, form in names)


def test_kazakh_names_have_the_kazakh_letters(tables):
    for region_id, expected in REGIONS_KK.items():
        assert (
            names_of(tables, "region_names", "region_id", region_id)[("kk", "Cyrl", "official")]["local_name"]
            == expected
        )
    ulytau = names_of(tables, "region_names", "region_id", "KZ-62")
    assert ulytau[("kk", "Latn", "official")]["local_name"] == "Ūlytau oblysy"
    assert (ulytau[("ru", "Cyrl", "official")]["local_name"], ulytau[("ru", "Cyrl", "common")]["local_name"]) == (
        "область Ұлытау",
        "Улытауская область",
    )
    amanat = names_of(tables, "party_names", "party_id", "amanat")
    assert amanat[("kk", "Latn", "short")]["local_name"] == "AMANAT"  # Latin letters even in Kazakh texts


def test_no_name_mixes_scripts_within_a_word(tables):
    """A Cyrillic р inside a Latin word looks the same and is a different name (one charter has 'рarty')."""
    for table in ("region_names", "party_names"):
        for row in tables[table]:
            for word in re.findall(r"\w+", row["local_name"]):
                assert not (re.search("[a-zA-Zäöüñğşıūİ]", word) and re.search("[а-яА-ЯёәғқңөұүһіӘҒҚҢӨҰҮҺІ]", word)), (
                    row
                )


def test_every_sourced_name_has_a_page_and_a_quote(tables):
    for table in ("region_names", "party_names"):
        for row in tables[table]:
            assert row["source_url"].startswith("http") and row["source_publisher_name"], row
            assert row["is_transliterated"] == (row["source_quote_text"] is None), row
            if row["is_transliterated"]:
                assert row["script_code"] == "Latn" and row["language_code"] == "kk", row
            else:
                assert len(row["source_quote_text"]) < 200, row


def test_a_name_its_quote_does_not_contain_is_refused(tmp_path):
    path = tmp_path / "names.yaml"
    path.write_text(
        "regions:\n  - region_id: KZ-62\n    names:\n"
        "      - {language: kk, script: Cyrl, form: official, name: Улытау облысы, url: 'https://x.example',"
        " publisher: X, quote: 'Ұлытау облысы бойынша'}\n",
        encoding="utf-8",
    )
    with pytest.raises(PipelineError, match="KZ-62, name #1: the quote must be under 200 characters and contain"):
        read_names(["KZ-62"], [], path)


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            "{language: en, script: Latn, form: official_full, name: Auyl Democratic \u0440arty, url: 'https://x.example',"
            " publisher: X, quote: 'Auyl Democratic \u0440arty'}",
            "mixes Latin and Cyrillic letters",
        ),
        (
            "{language: en, script: Latn, form: official_full, name: Auyl Party, url: 'https://x.example',"
            " publisher: X, quote: 'something else', note: 'written otherwise'}",
            "at least 'party'",
        ),
        ("{language: en, script: Latn, form: [short], name: Auyl, url: u, publisher: X, quote: Auyl}", "must be text"),
    ],
)
def test_a_wrong_party_name_is_refused(tmp_path, entry, message):
    path = tmp_path / "names.yaml"
    path.write_text(f"parties:\n  - party_id: auyl\n    names:\n      - {entry}\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=message):
        read_names([], ["auyl"], path)


def test_a_damaged_names_file_is_a_clear_error(tmp_path):
    path = tmp_path / "names.yaml"
    for text in ("regions: [", "- just a list\n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(PipelineError, match="names.yaml"):
            read_names(["KZ-62"], [], path)
