"""SuiteQL query building (injection safety) and page parsing, without I/O."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nswoo.netsuite
from nswoo.errors import ConfigurationError, InvalidPayload
from nswoo.netsuite._suiteql import keyset_query, make_page_converter, normalize_row, parse_page
from nswoo.netsuite.suiteql import (
    id_list,
    ident,
    internal_id,
    number,
    suiteql_queries,
    suiteql_query,
    text,
    text_list,
)


def parse_literal(sql: str) -> str:
    """Read one SQL string literal back by the SQL rule: quoted, '' stands for '."""
    assert sql.startswith("'")
    assert sql.endswith("'")
    inner = sql[1:-1]
    out, index = [], 0
    while index < len(inner):
        char = inner[index]
        if char == "'":
            # A quote inside a literal is only legal doubled; a lone one would end it.
            assert inner[index + 1] == "'", "unescaped quote inside the literal"
            out.append("'")
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


_CLEAN_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")))


@given(_CLEAN_TEXT)
def test_any_text_round_trips_as_a_literal(value: str) -> None:
    """Any string without control characters reads back unchanged, with no lone quote."""
    sql = text(value).sql
    assert parse_literal(sql) == value
    query = suiteql_query("SELECT id FROM customer WHERE email = {v}", v=text(value)).text
    prefix = "SELECT id FROM customer WHERE email = "
    assert query.startswith(prefix)
    assert query.removeprefix(prefix) == sql


@given(st.text(min_size=1))
def test_control_characters_are_refused_or_quoted(value: str) -> None:
    """A value with a control character is refused; otherwise it is safely quoted."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        with pytest.raises(InvalidPayload):
            text(value)
    else:
        assert parse_literal(text(value).sql) == value


def test_classic_injection_stays_inside_the_literal() -> None:
    """A quote-breaking webhook value is data, not SQL."""
    query = suiteql_query(
        "SELECT id FROM transaction WHERE custbody_x = {v}", v=text("1' OR '1'='1")
    )
    assert query.text == "SELECT id FROM transaction WHERE custbody_x = '1'' OR ''1''=''1'"


def test_nul_is_refused() -> None:
    """NUL never reaches the query text."""
    with pytest.raises(InvalidPayload):
        text("40001\x00")


def test_raw_strings_are_refused_as_values() -> None:
    """A plain str cannot be bound: it would be pasted as SQL."""
    with pytest.raises(TypeError, match="bind values"):
        suiteql_query("SELECT id FROM item WHERE itemid = {v}", v="x")  # type: ignore[arg-type]


def test_placeholders_and_values_must_match() -> None:
    """Missing and unused values are both refused."""
    with pytest.raises(ValueError, match="missing"):
        suiteql_query("SELECT {a} FROM item")
    with pytest.raises(ValueError, match="unused"):
        suiteql_query("SELECT id FROM item", a=number(1))
    with pytest.raises(ValueError, match="plain name"):
        suiteql_query("SELECT {a.b} FROM item", a=number(1))


def test_identifiers_are_validated() -> None:
    """Column names come from configuration and must be plain identifiers."""
    assert ident("custbody_nswoo_woo_order_id").sql == "custbody_nswoo_woo_order_id"
    for bad in ("1abc", "a b", "a;DROP", "t.col", "", "a'"):
        with pytest.raises(ConfigurationError):
            ident(bad)


def test_numbers_and_ids() -> None:
    """Numbers render exactly; ids are validated digits; floats and bools are refused."""
    assert number(Decimal("1.50")).sql == "1.50"
    assert number(7).sql == "7"
    assert internal_id("0042").sql == "42"
    with pytest.raises(TypeError):
        number(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number(True)
    with pytest.raises(InvalidPayload):
        internal_id("1 OR 1=1")


def test_in_lists_are_chunked_at_1000() -> None:
    """A long IN list becomes several queries of at most 1000 ids each."""
    ids = id_list(range(1, 2502))
    queries = list(
        suiteql_queries(
            "SELECT id FROM item WHERE id IN {ids} AND {col} = 'F'",
            ids=ids,
            col=ident("isinactive"),
        )
    )
    assert len(queries) == 3
    counts = [q.text.count(",") + 1 for q in queries]
    assert counts == [1000, 1000, 501]
    assert queries[0].text.startswith("SELECT id FROM item WHERE id IN (1, 2, ")
    assert queries[2].text.endswith("2501) AND isinactive = 'F'")
    with pytest.raises(ValueError, match="chunk"):
        suiteql_query("SELECT id FROM item WHERE id IN {ids}", ids=ids)


def test_empty_in_list_yields_no_query() -> None:
    """Nothing can match an empty list, so no query is built."""
    assert list(suiteql_queries("SELECT id FROM item WHERE id IN {ids}", ids=id_list([]))) == []
    with pytest.raises(ValueError, match="empty"):
        suiteql_query("SELECT id FROM item WHERE id IN {ids}", ids=id_list([]))


@given(st.lists(_CLEAN_TEXT, min_size=1, max_size=20))
def test_text_lists_render_each_value_as_a_literal(values: list[str]) -> None:
    """`text_list()` renders `('a', 'b')`, each element read back unchanged, in order, once."""
    query = suiteql_query("SELECT id FROM item WHERE itemid IN {skus}", skus=text_list(values))
    prefix = "SELECT id FROM item WHERE itemid IN ("
    assert query.text.startswith(prefix)
    assert query.text.endswith(")")
    rendered = query.text.removeprefix(prefix)[:-1]
    expected = list(dict.fromkeys(values))
    assert rendered == ", ".join(text(v).sql for v in expected)


def test_text_lists_refuse_what_text_refuses() -> None:
    """A lone str (not a list), a non-str element, or a control character is refused."""
    with pytest.raises(TypeError, match="not one str"):
        text_list("MUG-BLUE")
    with pytest.raises(TypeError):
        text_list(["A", 1])  # type: ignore[list-item]
    with pytest.raises(InvalidPayload):
        text_list(["A", "B\x00"])


def test_text_lists_are_chunked_like_id_lists() -> None:
    """1,200 SKUs at 500 a query: three queries; an empty list, none; two lists, refused."""
    skus = text_list(f"SKU-{n}" for n in range(1200))
    queries = list(
        suiteql_queries("SELECT id FROM item WHERE itemid IN {s}", chunk_size=500, s=skus)
    )
    assert [q.text.count("'SKU-") for q in queries] == [500, 500, 200]
    assert list(suiteql_queries("SELECT id FROM item WHERE itemid IN {s}", s=text_list([]))) == []
    with pytest.raises(ValueError, match="only one IN list"):
        list(
            suiteql_queries(
                "SELECT id FROM item WHERE id IN {a} AND itemid IN {b}",
                a=id_list([1]),
                b=text_list(["x"]),
            )
        )


def test_no_hand_made_values_are_public() -> None:
    """`SqlValue` is not exported: values come only from the helpers."""
    assert "SqlValue" not in nswoo.netsuite.__all__
    assert not hasattr(nswoo.netsuite, "SqlValue")


def test_keyset_query_orders_by_key() -> None:
    """Keyset pages restart after the last key and order by it."""
    first = keyset_query("SELECT id, itemid FROM item WHERE {keyset}", key="id", after=None)
    assert first.text == "SELECT id, itemid FROM item WHERE id IS NOT NULL ORDER BY id"
    later = keyset_query(
        "SELECT id FROM item WHERE isinactive = {f} AND {keyset}", key="id", after=250, f=text("F")
    )
    assert later.text == "SELECT id FROM item WHERE isinactive = 'F' AND id > 250 ORDER BY id"
    with pytest.raises(ValueError, match="ORDER BY"):
        keyset_query("SELECT id FROM item WHERE {keyset} ORDER BY id", key="id", after=None)


def test_rows_are_normalised() -> None:
    """Rows lose links, get lower-case keys, and exact 'T'/'F' become booleans."""
    row = {"links": [], "ID": "5", "isInactive": "F", "flag": "T", "name": "Tea"}
    assert normalize_row(row) == {"id": "5", "isinactive": False, "flag": True, "name": "Tea"}
    assert normalize_row(row, booleans=False)["flag"] == "T"


def test_page_shape_is_checked() -> None:
    """A page missing hasMore is refused with the path listed."""
    converter = make_page_converter()
    page = parse_page(
        {
            "links": [],
            "count": 1,
            "hasMore": False,
            "items": [{"links": [], "type": "SalesOrd"}],
            "offset": 0,
            "totalResults": 1,
        },
        converter=converter,
    )
    assert page.items == ({"type": "SalesOrd"},)
    assert page.has_more is False
    with pytest.raises(InvalidPayload) as info:
        parse_page({"items": []}, converter=converter)
    assert any("hasMore" in p for p in info.value.problems)
    with pytest.raises(InvalidPayload):
        parse_page({"items": [], "hasMore": "false"}, converter=converter)
