"""Every query of the SQL cookbook (docs/cookbook.md, linked from the README) runs, on the database and
on the Parquet files alone, and gives the known answer."""

import datetime as dt
import os
import re

import duckdb
import pytest

from pipeline import ROOT
from tests.conftest import database

QUERIES = dict(
    (int(n), (title, sql))
    for n, title, sql in re.findall(
        r"^### (\d+)\. (.*?)\n\n```sql\n(.*?)```",
        (ROOT / "docs" / "cookbook.md").read_text(encoding="utf-8"),
        re.DOTALL | re.MULTILINE,
    )
)

# number -> (row count, first row, last row or None when the order of the last rows is not total)
EXPECTED = {
    1: (20, ("Kyzylorda Region", 67.21, 326_663, 486_034), ("Almaty", 25.82, 310_416, 1_202_078)),
    2: (20, ("Turkistan Region", 140_322, 23.39), ("Shymkent", 7_443, 2.62)),
    3: (
        7,
        (2, "Astana", "Däulet Muqaev", None, 51_769, 29.51),
        (14, "West Kazakhstan Region", "Abzal Quspan", None, 126_784, 50.22),
    ),
    4: (
        29,
        (7, "Shymkent", "Bolatbek Najmetdinuly", "Abai Praliev", 2_532, 2.69),
        (10, "Aktobe Region", "Qazybek Älişev", "Tättigül Talaeva", 220_869, 69.09),
    ),
    5: (24, ("Institute of Eurasian Integration", "baytaq", 3.2, 2.3, 0.9), ("SOTSIS-A", "baytaq", 2.2, 2.3, -0.1)),
    6: (7, ("amanat", 3_431_510, 53.9, True, 39, 0.649, 1, 40, 40), ("baytaq", 146_431, 2.3, False, 0, None, 0, 0, 0)),
    7: (7, ("10:00", 8.51), ("22:00", 25.82)),
    8: (30, ("Abai Region", "aq_jol", 9_000, 9_559), ("West Kazakhstan Region", "baytaq", 2_312, 13_027)),
    9: (8, ("amanat", 3_431_510, 53.9, 53.9), ("baytaq", 146_431, 2.3, 2.3)),
    10: (
        4,
        ("Public Opinion Research Institute", dt.date(2023, 1, 28), 48.6),
        ("Public Opinion Research Institute", dt.date(2023, 3, 10), 66.7),
    ),
    11: (45, None, ("corrected", "totals_party_list_votes", "option_id=against_all", "votes", "248,291", "248.291")),
    12: (8, ("option_id=amanat", 9, 9, 53.9, 53.9, 53.9), ("option_id=baytaq", 7, 7, 2.3, 2.3, 2.3)),
    14: (
        3,
        ("boqaev_stambekov", 4, "Boqaev", 4_459, 11_660, "Erlan Stambekov", 2_825, 15_930),
        ("altaev_qyryqbaev", 27, "Ältaev", 35_178, 35_116, "Temir Qyryqbaev", 32_251, 117_584),
    ),
    15: (8, ("amanat", 40, 22, 62, 62, 1), ("baytaq", 0, 0, 0, None, 0)),
    16: (20, ("KZ-11", 8, 8, 293_595), ("KZ-61", 1, 0, 599_903)),
    17: (
        14,
        ("counts_reproducible", "primary", 129.0, 52.228809, 4.299e-45, "article"),
        ("turnout_share_correlation_unweighted", "exploratory", 0.115859, 0.0, 0.629537, "article"),
    ),
    18: (4, ("amanat", 71.09, 53.9, -17.19, 76, 40), ("auyl", 5.29, 10.9, 5.61, None, 8)),
    13: (
        20,
        ("KZ-43", "Қызылорда облысы", "Qyzylorda oblysy", "Кызылординская область", 67.21),
        ("KZ-75", "Алматы қаласы", "Almaty qalasy", "город Алматы", 25.82),
    ),
}


def test_the_cookbook_has_the_queries_users_ask_for():
    assert len(QUERIES) >= 8 and sorted(QUERIES) == sorted(EXPECTED)


@pytest.fixture(scope="module", params=["database", "parquet"])
def con(request, fresh_build):
    cwd = os.getcwd()
    os.chdir(fresh_build)  # the Parquet views use paths relative to the folder holding processed/
    if request.param == "database":
        connection = duckdb.connect(str(database(fresh_build)), read_only=True)
    else:
        connection = duckdb.connect()
        connection.execute((fresh_build / "docs" / "parquet_views.sql").read_text(encoding="utf-8"))
    yield connection
    connection.close()
    os.chdir(cwd)


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_cookbook_query_gives_the_known_answer(con, number):
    title, sql = QUERIES[number]
    rows = con.execute(sql).fetchall()
    count, first, last = EXPECTED[number]
    assert len(rows) == count, title
    if first is not None:
        assert rows[0] == first, title
    if last is not None:
        assert rows[-1] == last, title


def test_the_database_describes_itself(fresh_build):
    connection = duckdb.connect(str(database(fresh_build)), read_only=True)
    try:
        described = connection.execute("DESCRIBE district_results").fetchall()
        comments = connection.execute(
            "SELECT comment FROM duckdb_columns() WHERE database_name = 'kz_election_2023'"
        ).fetchall()
        views = connection.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal ORDER BY 1"
        ).fetchall()
    finally:
        connection.close()
    assert [d[0] for d in described][:3] == ["district_number", "candidate_rank", "candidate_name"]
    assert comments and all(c[0] for c in comments)
    assert [v[0] for v in views] == [
        "district_claims_vs_official",
        "district_races",
        "national_summary",
        "party_list_results_named",
        "party_list_results_wide",
        "party_names_wide",
        "region_names_wide",
    ]
    assert all(v[1] for v in views)


def test_the_wide_view_gives_votes_as_bigint(fresh_build):
    """A sum of BIGINT is HUGEINT in DuckDB (a float in pandas, a double in Parquet): the view casts it."""
    connection = duckdb.connect(str(database(fresh_build)), read_only=True)
    try:
        types = {row[0]: row[1] for row in connection.execute("DESCRIBE party_list_results_wide").fetchall()}
    finally:
        connection.close()
    assert types["amanat_votes"] == "BIGINT" and types["against_all_votes"] == "BIGINT"
