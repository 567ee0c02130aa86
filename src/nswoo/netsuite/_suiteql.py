"""SuiteQL: an injection-safe query builder, the page model and row normalisation (pure).

Facts (reference §6): `POST /services/rest/query/v1/suiteql?limit=<n>&offset=<m>` with
`Prefer: transient` and body `{"q": …}`; at most 1000 rows a page and 100,000 rows a query;
the response is `{"links", "count", "hasMore", "items", "offset", "totalResults"}`; each row
carries an empty `links` array; column keys come back lower-case; booleans are `'T'`/`'F'`.

Queries are built from a template whose placeholders take only bound values: `text()`
(string literal, quotes doubled), `number()` (an int or Decimal), `internal_id()`,
`id_list()` (an `IN` list of internal ids), `text_list()` (an `IN` list of string literals),
`ident()` (a validated column or table name). A plain `str` is refused as a value, so text
from a webhook can never reach the query as SQL; `SqlValue` itself is not public, so no
caller can hand-make one either.

Example:
    >>> str(suiteql_query(
    ...     "SELECT id FROM transaction WHERE {field} = {value} AND entity IN {ids}",
    ...     field=ident("custbody_nswoo_woo_order_id"), value=text("o'brien"), ids=id_list([1, 2]),
    ... ))
    "SELECT id FROM transaction WHERE custbody_nswoo_woo_order_id = 'o''brien' AND entity IN (1, 2)"
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, LiteralString

import attrs
import cattrs

from ..errors import ConfigurationError, InvalidPayload
from ._records import validate_internal_id

__all__ = [
    "MAX_IN_LIST",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_ROWS",
    "IdList",
    "InList",
    "Param",
    "Query",
    "SuiteQLPage",
    "TextList",
    "id_list",
    "ident",
    "internal_id",
    "keyset_query",
    "make_page_converter",
    "normalize_row",
    "number",
    "parse_page",
    "suiteql_queries",
    "suiteql_query",
    "text",
    "text_list",
]

MAX_PAGE_SIZE = 1000
"""Rows a SuiteQL page can hold (reference §6)."""

MAX_QUERY_ROWS = 100_000
"""Rows one SuiteQL query can return without SuiteAnalytics Connect (reference §6)."""

MAX_IN_LIST = 1000
"""Values per `IN (…)` list: Oracle SQL's limit for an expression list, which SuiteQL is
taken to share (the reference is silent on SuiteQL's own limit), so lists are chunked."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class SqlValue:
    """A value rendered into SuiteQL text by this module only (build it with the helpers).

    Not exported: a caller that could build one from any string could paste SQL.
    """

    sql: str


@attrs.frozen
class IdList:
    """Internal ids for an `IN (…)` list, validated; rendered in chunks of `MAX_IN_LIST`."""

    ids: tuple[str, ...]

    def literals(self) -> tuple[str, ...]:
        """The SQL literal of each id (digits)."""
        return self.ids

    def chunk(self, start: int, stop: int) -> IdList:
        """The ids from `start` to `stop`, as a list of their own."""
        return IdList(self.ids[start:stop])


@attrs.frozen
class TextList:
    """Strings for an `IN (…)` list, each checked like `text()`; chunked like `IdList`."""

    values: tuple[str, ...]

    def literals(self) -> tuple[str, ...]:
        """The SQL literal of each value: quoted, single quotes doubled."""
        return tuple(_quote(value) for value in self.values)

    def chunk(self, start: int, stop: int) -> TextList:
        """The values from `start` to `stop`, as a list of their own."""
        return TextList(self.values[start:stop])


InList = IdList | TextList
"""A value list for `IN {name}`: the one kind of parameter `suiteql_queries` chunks."""

Param = SqlValue | IdList | TextList
"""Anything a template placeholder can be bound to (built by this module's helpers)."""


@attrs.frozen
class Query:
    """A SuiteQL query built from a template and bound values (`str(query)` is its text)."""

    text: str

    def __str__(self) -> str:
        return self.text


def _bad_text(detail: str) -> InvalidPayload:
    return InvalidPayload(detail, problems=(detail,), system="netsuite")


def text(value: str) -> SqlValue:
    """A SuiteQL string literal: single quotes doubled, the whole value quoted.

    Raises `InvalidPayload` for control characters (NUL included) and lone surrogates, which
    have no business in a lookup value and which some SQL layers truncate or mangle.
    """
    _check_text(value, "text()")
    return SqlValue(_quote(value))


def _check_text(value: object, helper: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{helper} takes str values")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise _bad_text("a SuiteQL text value may not contain control characters")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def number(value: int | Decimal) -> SqlValue:
    """A SuiteQL numeric literal from an int or a finite Decimal (never a float)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError("number() takes an int or a Decimal")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _bad_text("a SuiteQL number must be finite")
        return SqlValue(format(value, "f"))
    return SqlValue(str(int(value)))


def internal_id(value: int | str) -> SqlValue:
    """A NetSuite internal id (positive digits), rendered as a number."""
    return SqlValue(validate_internal_id(value))


def id_list(values: Iterable[int | str]) -> IdList:
    """Internal ids for `IN {ids}`; each is validated as digits (duplicates dropped)."""
    seen: dict[str, None] = {}
    for value in values:
        seen[validate_internal_id(value)] = None
    return IdList(tuple(seen))


def text_list(values: Iterable[str]) -> TextList:
    """Strings for `IN {values}`, each a quoted literal as `text()` makes (duplicates dropped).

    Raises:
        TypeError: a value is not a `str` (a lone `str` passed whole is refused too: it
            would be read as a list of its characters).
        InvalidPayload: a value holds control characters (as `text()`).
    """
    if isinstance(values, str):
        raise TypeError("text_list() takes an iterable of str, not one str")
    seen: dict[str, None] = {}
    for value in values:
        _check_text(value, "text_list()")
        seen[value] = None
    return TextList(tuple(seen))


def ident(name: str) -> SqlValue:
    """A column or table name (e.g. the configured custom field id), validated.

    Raises `ConfigurationError` unless `name` matches `^[A-Za-z_][A-Za-z0-9_]*$`: identifiers
    come from configuration, and quoting cannot make an arbitrary one safe.
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ConfigurationError(
            f"{name!r} is not a SuiteQL identifier (letters, digits and '_', not first a digit)"
        )
    return SqlValue(name)


def _fields(template: str) -> list[str]:
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"template placeholder {{{name}}} must be a plain name")
        names.append(name)
    return names


def _render(template: str, values: Mapping[str, Param]) -> str:
    rendered: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, IdList | TextList):
            literals = value.literals()
            if not literals:
                raise ValueError(f"{name}: an empty IN list cannot be rendered")
            rendered[name] = "(" + ", ".join(literals) + ")"
        else:
            rendered[name] = value.sql
    return template.format_map(rendered)


def _check_params(template: str, params: Mapping[str, object]) -> None:
    names = set(_fields(template))
    missing = names - params.keys()
    unused = params.keys() - names
    if missing or unused:
        raise ValueError(
            f"template placeholders and values differ: missing {sorted(missing)}, "
            f"unused {sorted(unused)}"
        )
    for name, value in params.items():
        if not isinstance(value, SqlValue | IdList | TextList):
            # A raw str would be pasted as SQL: refuse it, point at the helpers.
            raise TypeError(
                f"{name}: bind values with text(), number(), internal_id(), id_list(), "
                f"text_list() or ident(), not {type(value).__name__}"
            )


def suiteql_query(template: LiteralString, **params: Param) -> Query:
    """Build one query from `template` (`{name}` placeholders; `{{`/`}}` for braces).

    Every placeholder must be bound and every value used. An `IN` list (`id_list()`,
    `text_list()`) longer than `MAX_IN_LIST` is refused here: use `suiteql_queries` to
    split it.

    Raises:
        TypeError: a value was not built with this module's helpers.
        ValueError: placeholders and values differ, or an `IN` list is empty or too long.
    """
    _check_params(template, params)
    for name, value in params.items():
        if isinstance(value, IdList | TextList) and len(value.literals()) > MAX_IN_LIST:
            raise ValueError(
                f"{name}: {len(value.literals())} values; use suiteql_queries() to chunk"
            )
    return Query(_render(template, params))


def suiteql_queries(
    template: LiteralString, *, chunk_size: int = MAX_IN_LIST, **params: Param
) -> Iterator[Query]:
    """Build one query per chunk of the template's single `IN` list (≤ `chunk_size` each).

    Yields nothing when the list is empty (nothing can match). At most one list value
    (`id_list()` or `text_list()`) is allowed, since chunking two would mean a cross product.
    """
    _check_params(template, params)
    if not 0 < chunk_size <= MAX_IN_LIST:
        raise ValueError(f"chunk_size must be between 1 and {MAX_IN_LIST}")
    lists = [name for name, value in params.items() if isinstance(value, IdList | TextList)]
    if len(lists) > 1:
        raise ValueError(f"only one IN list may be chunked, got {sorted(lists)}")
    if not lists:
        yield Query(_render(template, params))
        return
    name = lists[0]
    values = params[name]
    assert isinstance(values, IdList | TextList)  # noqa: S101 - narrowed by the comprehension
    for start in range(0, len(values.literals()), chunk_size):
        chunk = {**params, name: values.chunk(start, start + chunk_size)}
        yield Query(_render(template, chunk))


def keyset_query(template: LiteralString, *, key: str, after: int | None, **params: Param) -> Query:
    """One keyset page query: `{keyset}` in `template` becomes `<key> > <after>`.

    The first page (`after=None`) renders `<key> IS NOT NULL`. `ORDER BY <key>` is appended,
    so the template must not order its rows itself. Reference §6: one query returns at most
    100,000 rows and paging should order by a unique key; restarting each page from the last
    key seen pages past the cap without offsets.
    """
    if "keyset" in params:
        raise ValueError("'keyset' is reserved for the keyset condition")
    if "{keyset}" not in template:
        raise ValueError("a keyset template needs a {keyset} placeholder in its WHERE clause")
    if re.search(r"\border\s+by\b", template, re.IGNORECASE):
        raise ValueError("a keyset template must not ORDER BY; the key order is appended")
    column = ident(key).sql
    condition = f"{column} IS NOT NULL" if after is None else f"{column} > {number(after).sql}"
    _check_params(template, {**params, "keyset": SqlValue(condition)})
    return Query(
        _render(template, {**params, "keyset": SqlValue(condition)}) + f" ORDER BY {column}"
    )


# ---------------------------------------------------------------------------------------------
# Responses


@attrs.frozen
class SuiteQLPage:
    """One page of SuiteQL rows, normalised (see `normalize_row`)."""

    items: tuple[dict[str, Any], ...]
    has_more: bool
    offset: int = 0
    count: int = 0
    total_results: int | None = None


@attrs.frozen
class _WirePage:
    items: list[dict[str, Any]]
    hasMore: bool  # noqa: N815 - the wire name
    offset: int = 0
    count: int | None = None
    totalResults: int | None = None  # noqa: N815 - the wire name


def normalize_row(row: Mapping[str, Any], *, booleans: bool = True) -> dict[str, Any]:
    """Drop the row's `links`, lower-case its keys, and turn `'T'`/`'F'` into booleans.

    SuiteQL returns booleans as the plain strings `'T'` and `'F'` (reference §6) with no type
    information, so with `booleans=True` every value that is exactly `'T'` or `'F'` becomes
    `True`/`False`, including a text column that happens to hold a lone `T` or `F`. Pass
    `booleans=False` for queries selecting such text columns.
    """
    result: dict[str, Any] = {}
    for key, value in row.items():
        if key == "links":
            continue
        converted: Any = value
        if booleans and value == "T":
            converted = True
        elif booleans and value == "F":
            converted = False
        result[key.lower()] = converted
    return result


def _strict_bool(value: object, _type: object) -> bool:
    # cattrs' default would turn the string "false" into True.
    if not isinstance(value, bool):
        raise TypeError(f"expected a JSON boolean, got {type(value).__name__}")
    return value


def _strict_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a JSON integer, got {type(value).__name__}")
    return value


def make_page_converter() -> cattrs.Converter:
    """The converter that structures SuiteQL pages (its own, never cattrs' global one)."""
    converter = cattrs.Converter(forbid_extra_keys=False)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(int, _strict_int)
    return converter


def parse_page(
    payload: object, *, converter: cattrs.Converter, booleans: bool = True
) -> SuiteQLPage:
    """Structure a decoded SuiteQL response into a `SuiteQLPage`.

    Raises:
        InvalidPayload: the payload is not the documented page shape (`problems` lists why).
    """
    if not isinstance(payload, Mapping):
        raise InvalidPayload(
            "SuiteQL response is not a JSON object",
            problems=("expected a JSON object",),
            system="netsuite",
        )
    try:
        wire = converter.structure(payload, _WirePage)
    except cattrs.BaseValidationError as exc:
        raise InvalidPayload(
            "SuiteQL page does not fit the documented shape",
            problems=cattrs.transform_error(exc),
            system="netsuite",
        ) from exc
    items = tuple(normalize_row(row, booleans=booleans) for row in wire.items)
    return SuiteQLPage(
        items=items,
        has_more=wire.hasMore,
        offset=wire.offset,
        count=len(items) if wire.count is None else wire.count,
        total_results=wire.totalResults,
    )
