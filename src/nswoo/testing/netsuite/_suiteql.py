"""SuiteQL's Oracle forms, translated to the SQLite the simulator runs its queries on.

SuiteQL "supports the syntax for both SQL-92 and Oracle SQL" (Oracle, SuiteQL Syntax and
Examples, ns-online-help/section_156257790831.html), and the simulator answers on SQLite. The
forms below are rewritten so that they return the rows NetSuite returns; every other Oracle
form that SQLite would run with a different meaning, or not at all, is refused with the
simulator's own "not simulated" error (`NotSimulated`, answered 501), never with NetSuite's
user error, so a correct query is never reported as wrong.

Translated:

- `BUILTIN.DF(ref)`: "Returns the display value of a field from a target record type without
  having to join the target record type explicitly" (Oracle, ns-online-help/
  article_1029114613.html). A customer reference shows its `entityid`, a location its
  `name`, an item its `itemid`, the transaction type `SalesOrd` "Sales Order"; a plain text
  or number column is its own display value. Other references (status, custom lists) are
  not simulated: their display text is not in the reference.
- `ROWNUM`: Oracle's pseudocolumn, numbered "after a query's filters have been applied ...
  before any aggregate functions are calculated, and before the rows have been sorted"
  (timdietrich.me/blog/netsuite-suiteql-pagination). `ROWNUM <= n` (and `<`, `=`, `>`,
  `>=`, `BETWEEN`) as a condition of a query block without ORDER BY, GROUP BY, DISTINCT or
  aggregates keeps the block's first n rows; Oracle's trap `ROWNUM > 1` keeps none, as it
  does in Oracle. `ROWNUM` in a select list numbers the block's rows before its ORDER BY.
- `SYSDATE` (and `CURRENT_DATE`, `CURRENT_TIMESTAMP`): "the current date and time" (Oracle
  Database SQL Reference, SYSDATE), read from the simulator's clock, as ISO text in UTC.
- `TO_DATE(text, format)`: the Oracle format model (`YYYY`, `MM`, `MON`, `MONTH`, `DD`,
  `HH24`, `HH`/`HH12` with `AM`/`PM`, `MI`, `SS`, punctuation, "quoted text"); the simulator
  keeps dates as ISO text, so the result compares with date columns as Oracle dates do.
  `SYSDATE - 7`, `TO_DATE(...) + 1` and `TRUNC(SYSDATE)` are day arithmetic, as in Oracle.
- `FETCH FIRST|NEXT n ROW|ROWS ONLY`, with an optional `OFFSET m ROW|ROWS` before it: Oracle's
  row limiting clause, as SQLite's `LIMIT n OFFSET m`. `MINUS` is SQLite's `EXCEPT`.

Functions: SuiteQL "includes a list of supported SQL functions and does not allow you to use
unsupported SQL functions in your query" (Oracle, Query Language Compliance, ns-online-help/
section_3903316302.html). `SUITEQL_FUNCTIONS` is that list (SuiteQL Supported and Unsupported
Functions, ns-online-help/section_158513731864.html; 2020.1 copy in TIBCO's NetSuite adapter
help). A function outside it is NetSuite's user error (400); one inside it that SQLite lacks
is not simulated (501).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs

__all__ = [
    "INTERNAL_FUNCTIONS",
    "SUITEQL_FUNCTIONS",
    "NotSimulated",
    "Translation",
    "date_add",
    "oracle_trunc",
    "sysdate",
    "to_date",
    "translate",
]

# Oracle's list of functions SuiteQL accepts (module docstring), plus the aggregates and
# ROW_NUMBER it names. `LIKE` is an operator SQLite runs as a function.
_FUNCTION_NAMES = """
    ABS ACOS ADD_MONTHS APPROX_COUNT_DISTINCT ASCII ASCIISTR ASIN ATAN ATAN2 AVG BFILENAME
    BITAND CEIL CHARTOROWID CHR COALESCE COMPOSE CONCAT CORR CORR_K CORR_S COS COSH COUNT
    COVAR_POP COVAR_SAMP CURRENT_DATE CURRENT_TIMESTAMP DECODE DECOMPOSE DENSE_RANK EMPTY_BLOB
    EMPTY_CLOB EXP EXPR FLOOR FROM_TZ GREATEST INITCAP INSTR LAST_DAY LEAST LENGTH LENGTH2
    LENGTH4 LENGTHB LENGTHC LN LOCALTIMESTAMP LOG LOWER LPAD LTRIM MAX MEDIAN MIN MOD
    MONTHS_BETWEEN NANVL NEW_TIME NEXT_DAY NLSSORT NLS_INITCAP NLS_LOWER NLS_UPPER NULLIF NVL
    NVL2 ORA_HASH POWER RANK REGEXP_INSTR REGEXP_REPLACE REGEXP_SUBSTR REMAINDER REPLACE ROUND
    ROW_NUMBER RPAD RTRIM SIGN SIN SINH SOUNDEX SQRT SUBSTR SUM SYS_EXTRACT_UTC TAN TANH
    TO_BINARY_DOUBLE TO_BINARY_FLOAT TO_CHAR TO_CLOB TO_DATE TO_MULTI_BYTE TO_NCHAR TO_NCLOB
    TO_NUMBER TO_SINGLE_BYTE TO_TIMESTAMP TO_TIMESTAMP_TZ TRANSLATE TRUNC TZ_OFFSET UNISTR
    UPPER VSIZE WIDTH_BUCKET LIKE
"""
SUITEQL_FUNCTIONS = frozenset(_FUNCTION_NAMES.split())

# Internal functions the translation introduces (registered by the store).
INTERNAL_FUNCTIONS = frozenset({"NSWOO_SYSDATE", "NSWOO_TO_DATE", "NSWOO_DATE_ADD"})


class NotSimulated(Exception):
    """A valid SuiteQL form the simulator cannot answer faithfully; `what` names it."""

    def __init__(self, what: str, detail: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.detail = detail


@attrs.frozen
class Translation:
    """The SQLite text of a query, and whether its outermost statement ends in a LIMIT."""

    sql: str
    limited: bool


@attrs.frozen
class _Tok:
    kind: str
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper()


_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<comment>--[^\n]*|/\*.*?\*/)"
    r"|(?P<string>'(?:[^']|'')*')"
    r'|(?P<quoted>"(?:[^"]|"")*")'
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_$#]*)"
    r"|(?P<op><=|>=|<>|!=|\|\|)"
    r"|(?P<char>.)",
    re.DOTALL,
)


def _tokens(text: str) -> list[_Tok]:
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "char"
        if kind == "comment":
            out.append(_Tok("ws", " "))  # a comment separates tokens, nothing more
        else:
            out.append(_Tok(kind, match.group(0)))
    return out


def _text(tokens: Sequence[_Tok]) -> str:
    return "".join(token.text for token in tokens)


_CLAUSES = frozenset({"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "FETCH", "OFFSET", "LIMIT"})
_SET_OPERATORS = frozenset({"UNION", "INTERSECT", "EXCEPT", "MINUS"})
_AGGREGATES = frozenset(
    {"COUNT", "SUM", "AVG", "MIN", "MAX", "MEDIAN", "LISTAGG", "APPROX_COUNT_DISTINCT"}
)
_KEYWORDS = frozenset(
    {
        *_CLAUSES,
        *_SET_OPERATORS,
        "SELECT",
        "JOIN",
        "INNER",
        "LEFT",
        "RIGHT",
        "FULL",
        "OUTER",
        "CROSS",
        "NATURAL",
        "ON",
        "USING",
        "AND",
        "OR",
        "NOT",
        "AS",
        "BY",
        "WITH",
    }
)
# Oracle forms SQLite would run with another meaning or not at all (module docstring).
_UNSIMULATED_WORDS = {
    "PRIOR": "hierarchical queries (CONNECT BY ... PRIOR)",
    "PIVOT": "PIVOT",
    "UNPIVOT": "UNPIVOT",
    "ROWID": "the ROWID pseudocolumn",
    "SYSTIMESTAMP": "SYSTIMESTAMP",
    "LOCALTIMESTAMP": "LOCALTIMESTAMP",
    "BUILTIN_RESULT": "BUILTIN_RESULT type functions",
}
_UNSIMULATED_PAIRS = {
    ("CONNECT", "BY"): "hierarchical queries (CONNECT BY)",
    ("START", "WITH"): "hierarchical queries (START WITH)",
    ("WITH", "TIES"): "FETCH ... WITH TIES",
}


def translate(
    text: str,
    *,
    columns: Mapping[str, frozenset[str]],
    date_columns: frozenset[str],
) -> Translation:
    """SuiteQL `text` as SQLite, with the Oracle forms of the module docstring rewritten.

    Args:
        text: the query as received.
        columns: lower-case table name → its lower-case column names (for `BUILTIN.DF`).
        date_columns: lower-case names of columns holding dates (day arithmetic on them is
            not simulated: SQLite would subtract from the text).

    Raises:
        NotSimulated: the query uses an Oracle form the simulator does not answer.
    """
    tokens = _tokens(text)
    _refuse_unsimulated(tokens)
    tokens = _tokens(_text(_name_translated_columns(tokens)))
    tokens = _rename_words(tokens)
    tokens = _tokens(_text(_builtin_df(tokens, columns)))
    tokens = _tokens(_text(_to_date(tokens)))
    tokens = _tokens(_text(_date_arithmetic(tokens, date_columns)))
    tokens = _tokens(_text(_fetch_first(tokens)))
    tokens = _tokens(_text(_rownum(tokens)))
    return Translation(sql=_text(tokens), limited=_top_level_limit(tokens))


# -- scanning helpers -----------------------------------------------------------------------


def _next(tokens: Sequence[_Tok], index: int) -> int:
    """Index of the first non-space token after `index` (len(tokens) when none)."""
    index += 1
    while index < len(tokens) and tokens[index].kind == "ws":
        index += 1
    return index


def _prev(tokens: Sequence[_Tok], index: int) -> int:
    """Index of the last non-space token before `index` (-1 when none)."""
    index -= 1
    while index >= 0 and tokens[index].kind == "ws":
        index -= 1
    return index


def _is(tokens: Sequence[_Tok], index: int, text: str) -> bool:
    return 0 <= index < len(tokens) and tokens[index].upper == text


def _closing(tokens: Sequence[_Tok], opening: int) -> int:
    """Index of the `)` matching the `(` at `opening`."""
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].text == "(":
            depth += 1
        elif tokens[index].text == ")":
            depth -= 1
            if depth == 0:
                return index
    raise NotSimulated("an unbalanced parenthesis")  # SQLite reports the syntax error


def _arguments(tokens: Sequence[_Tok], opening: int, closing: int) -> list[list[_Tok]]:
    """The comma-separated arguments between a `(` and its `)`, each trimmed."""
    arguments: list[list[_Tok]] = [[]]
    depth = 0
    for token in tokens[opening + 1 : closing]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if token.text == "," and depth == 0:
            arguments.append([])
        else:
            arguments[-1].append(token)
    return [[t for t in argument if t.kind != "ws"] for argument in arguments]


def _standalone(tokens: Sequence[_Tok], index: int) -> bool:
    """A word not qualified (`x.word`) and not a function call (`word(`)."""
    return not _is(tokens, _prev(tokens, index), ".") and not _is(tokens, _next(tokens, index), "(")


# -- passes -----------------------------------------------------------------------------------


def _refuse_unsimulated(tokens: Sequence[_Tok]) -> None:
    words = [(i, t) for i, t in enumerate(tokens) if t.kind not in ("ws",)]
    for position, (index, token) in enumerate(words):
        if (
            token.kind == "word"
            and token.upper in _UNSIMULATED_WORDS
            and not _is(tokens, _prev(tokens, index), ".")
        ):
            raise NotSimulated(_UNSIMULATED_WORDS[token.upper])
        if position + 1 < len(words):
            pair = (token.upper, words[position + 1][1].upper)
            if pair in _UNSIMULATED_PAIRS:
                raise NotSimulated(_UNSIMULATED_PAIRS[pair])
        if (
            token.text == "("
            and position + 2 < len(words)
            and words[position + 1][1].text == "+"
            and words[position + 2][1].text == ")"
        ):
            raise NotSimulated("Oracle outer joins written with (+)")
        if token.kind == "word" and token.upper == "BUILTIN":
            following = [t.upper for _, t in words[position + 1 : position + 3]]
            if following[:1] == ["."] and following[1:] != ["DF"]:
                name = following[1] if len(following) > 1 else ""
                raise NotSimulated(f"BUILTIN.{name}", "only BUILTIN.DF is simulated")


_TRANSLATED = frozenset(
    {"SYSDATE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "BUILTIN", "TO_DATE", "ROWNUM", "TRUNC"}
)


def _name_translated_columns(tokens: list[_Tok]) -> list[_Tok]:
    """Alias each unaliased outer select-list item that will be rewritten to its own text.

    SQLite names an unaliased column by its expression: without this, `SELECT SYSDATE`
    would come back under the rewritten expression's text instead of `sysdate`.
    """
    edits: list[tuple[int, str]] = []
    for block in _blocks(tokens):
        if block.depth != 0:
            continue
        first = _next(tokens, block.start)
        if _is(tokens, first, "DISTINCT"):
            first = _next(tokens, first)
        end = block.clauses.get("FROM", block.end)
        depth = 0
        item_start = first
        for index in range(first, end + 1):
            token = tokens[index] if index < end else _Tok("char", ",")
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
            if not (token.text == "," and depth == 0):
                continue
            span = tokens[item_start:index]
            item = [t for t in span if t.kind != "ws"]
            item_start = index + 1
            if not item or not any(t.upper in _TRANSLATED for t in item):
                continue
            aliased = (
                len(item) >= 2
                and item[-1].kind in ("word", "quoted")
                and item[-2].text not in (".", "+", "-", "*", "/", "||", "(")
            )
            if not aliased:
                name = " ".join(_text(span).split()).replace('"', "")
                edits.append((_prev(tokens, index) + 1, f' AS "{name}"'))
    out = list(tokens)
    for position, alias in sorted(edits, reverse=True):
        out[position:position] = [_Tok("word", alias)]
    return out


def _rename_words(tokens: list[_Tok]) -> list[_Tok]:
    out = list(tokens)
    for index, token in enumerate(tokens):
        if token.kind != "word":
            continue
        word = token.upper
        if word in ("SYSDATE", "CURRENT_DATE", "CURRENT_TIMESTAMP") and _standalone(tokens, index):
            out[index] = _Tok("word", "NSWOO_SYSDATE()")
        elif word == "MINUS" and not _is(tokens, _prev(tokens, index), "."):
            out[index] = _Tok("word", "EXCEPT")  # Oracle's MINUS is the standard EXCEPT
    return out


# BUILTIN.DF: the display value of a reference, as a correlated scalar subquery on the
# target's primary key (constant cost per row), or a CASE over the few known codes.
_DISPLAY: dict[tuple[str, str], str] = {
    ("transaction", "entity"): "(SELECT {a}.entityid FROM customer {a} WHERE {a}.id = {x})",
    ("transaction", "location"): "(SELECT {a}.name FROM location {a} WHERE {a}.id = {x})",
    ("transactionline", "location"): "(SELECT {a}.name FROM location {a} WHERE {a}.id = {x})",
    ("aggregateitemlocation", "location"): (
        "(SELECT {a}.name FROM location {a} WHERE {a}.id = {x})"
    ),
    ("transactionline", "item"): "(SELECT {a}.itemid FROM item {a} WHERE {a}.id = {x})",
    ("aggregateitemlocation", "item"): "(SELECT {a}.itemid FROM item {a} WHERE {a}.id = {x})",
    ("transaction", "type"): "(CASE {x} WHEN 'SalesOrd' THEN 'Sales Order' ELSE {x} END)",
}
# Columns whose display value is the value itself (free text, numbers, ids).
_PLAIN = frozenset(
    {
        "id",
        "tranid",
        "externalid",
        "memo",
        "otherrefnum",
        "email",
        "companyname",
        "firstname",
        "lastname",
        "entityid",
        "phone",
        "itemid",
        "displayname",
        "name",
        "quantity",
        "rate",
        "amount",
        "foreignamount",
        "total",
        "foreigntotal",
        "shippingcost",
        "cost",
        "averagecost",
        "quantityonhand",
        "quantitycommitted",
        "quantityavailable",
        "quantityonorder",
        "quantitybackordered",
        "linesequencenumber",
    }
)


def _aliases(tokens: Sequence[_Tok], tables: frozenset[str]) -> dict[str, str]:
    """Alias (and bare table name) → table, from every FROM and JOIN of the query."""
    aliases: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        if tokens[index].upper in ("FROM", "JOIN"):
            single = tokens[index].upper == "JOIN"
            position = _next(tokens, index)
            while position < len(tokens):
                name = tokens[position]
                if name.kind == "quoted":
                    table = name.text.strip('"').lower()
                elif name.kind == "word":
                    table = name.text.lower()
                else:
                    break
                after = _next(tokens, position)
                if _is(tokens, after, "AS"):
                    after = _next(tokens, after)
                alias = table
                if (
                    after < len(tokens)
                    and tokens[after].kind == "word"
                    and tokens[after].upper not in _KEYWORDS
                ):
                    alias = tokens[after].text.lower()
                    after = _next(tokens, after)
                if table in tables:
                    known = aliases.setdefault(alias, table)
                    if known != table:
                        raise NotSimulated(f"BUILTIN.DF with the alias {alias} used for two tables")
                    aliases.setdefault(table, table)
                if single or not _is(tokens, after, ","):
                    break
                position = _next(tokens, after)
        index += 1
    return aliases


def _builtin_df(tokens: list[_Tok], columns: Mapping[str, frozenset[str]]) -> list[_Tok]:
    aliases = _aliases(tokens, frozenset(columns))
    out: list[_Tok] = []
    index = 0
    counter = 0
    while index < len(tokens):
        token = tokens[index]
        dot = _next(tokens, index)
        name = _next(tokens, dot)
        opening = _next(tokens, name)
        if not (
            token.upper == "BUILTIN"
            and _is(tokens, dot, ".")
            and _is(tokens, name, "DF")
            and _is(tokens, opening, "(")
        ):
            out.append(token)
            index += 1
            continue
        closing = _closing(tokens, opening)
        argument = _arguments(tokens, opening, closing)
        table, column, source = _df_target(argument, aliases, columns)
        counter += 1
        if (table, column) in _DISPLAY:
            sql = _DISPLAY[table, column].format(a=f"nswoo_df_{counter}", x=source)
        elif column in _PLAIN:
            sql = source
        else:
            raise NotSimulated(
                f"BUILTIN.DF on {table}.{column}",
                "its display text is not in the reference the simulator follows",
            )
        out.append(_Tok("word", sql))
        index = closing + 1
    return out


def _df_target(
    argument: list[list[_Tok]],
    aliases: Mapping[str, str],
    columns: Mapping[str, frozenset[str]],
) -> tuple[str, str, str]:
    parts = argument[0] if len(argument) == 1 else []
    if len(parts) == 3 and parts[1].text == "." and parts[0].kind in ("word", "quoted"):
        alias = parts[0].text.strip('"').lower()
        table = aliases.get(alias)
        column = parts[2].text.lower()
        if table is not None and column in columns[table]:
            return table, column, _text(parts)
    elif len(parts) == 1 and parts[0].kind == "word":
        column = parts[0].text.lower()
        owners = {table for table in set(aliases.values()) if column in columns[table]}
        if len(owners) == 1:
            return owners.pop(), column, parts[0].text
    shown = " ".join(t.text for part in argument for t in part)
    raise NotSimulated(
        f"BUILTIN.DF({shown})", "only a column of a simulated table can be displayed"
    )


# TO_DATE: Oracle format model elements → strptime directives (module docstring).
_FORMAT = re.compile(
    r'"[^"]*"|YYYY|RRRR|MONTH|MON|MM|DD|HH24|HH12|HH|MI|SS|AM|PM|A\.M\.|P\.M\.|[-/,.;: ]',
    re.IGNORECASE,
)
_DIRECTIVES = {
    "YYYY": "%Y",
    "RRRR": "%Y",
    "MONTH": "%B",
    "MON": "%b",
    "MM": "%m",
    "DD": "%d",
    "HH24": "%H",
    "HH12": "%I",
    "HH": "%I",
    "MI": "%M",
    "SS": "%S",
    "AM": "%p",
    "PM": "%p",
    "A.M.": "%p",
    "P.M.": "%p",
}


def _strptime_format(model: str) -> str:
    out = []
    position = 0
    while position < len(model):
        match = _FORMAT.match(model, position)
        if match is None:
            raise NotSimulated(
                f"the TO_DATE format element at {model[position:]!r}",
                "supported: YYYY RRRR MM MON MONTH DD HH24 HH HH12 MI SS AM PM, punctuation"
                ' and "quoted text"',
            )
        element = match.group(0)
        if element.startswith('"'):
            out.append(element[1:-1].replace("%", "%%"))
        else:
            out.append(_DIRECTIVES.get(element.upper(), element.replace("%", "%%")))
        position = match.end()
    return "".join(out)


def _to_date(tokens: list[_Tok]) -> list[_Tok]:
    out: list[_Tok] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        opening = _next(tokens, index)
        if not (
            token.upper == "TO_DATE"
            and _is(tokens, opening, "(")
            and not _is(tokens, _prev(tokens, index), ".")
        ):
            out.append(token)
            index += 1
            continue
        closing = _closing(tokens, opening)
        arguments = _arguments(tokens, opening, closing)
        if len(arguments) != 2:
            raise NotSimulated(
                f"TO_DATE with {len(arguments)} argument(s)",
                "without a format NetSuite uses the user's date format preference; pass a"
                " format model such as 'YYYY-MM-DD'",
            )
        model = arguments[1]
        if len(model) != 1 or model[0].kind != "string":
            raise NotSimulated("TO_DATE with a format that is not a literal")
        directive = _strptime_format(model[0].text[1:-1].replace("''", "'"))
        literal = "'" + directive.replace("'", "''") + "'"
        out.append(_Tok("word", f"NSWOO_TO_DATE({_text(arguments[0])}, {literal})"))
        index = closing + 1
    return out


_DATE_CALLS = frozenset({"NSWOO_SYSDATE", "NSWOO_TO_DATE", "NSWOO_DATE_ADD"})


def _date_call_end(tokens: Sequence[_Tok], index: int) -> int | None:
    """The closing parenthesis of a date-valued call starting at `index`, else None."""
    if index >= len(tokens) or tokens[index].upper not in _DATE_CALLS:
        return None
    opening = _next(tokens, index)
    return _closing(tokens, opening) if _is(tokens, opening, "(") else None


def _date_arithmetic(tokens: list[_Tok], date_columns: frozenset[str]) -> list[_Tok]:
    """`<date> ± n` as NSWOO_DATE_ADD; TRUNC keeps a date a date; column arithmetic refused."""
    out = list(tokens)
    index = 0
    while index < len(out):
        token = out[index]
        start = index
        end = _date_call_end(out, index)
        if end is None and token.upper == "TRUNC" and _is(out, _next(out, index), "("):
            # TRUNC of a date is a date (its day): arithmetic on it is day arithmetic too.
            opening = _next(out, index)
            closing = _closing(out, opening)
            inner = _next(out, opening)
            if _date_call_end(out, inner) == _prev(out, closing):
                end = closing
        elif (
            token.kind == "word"
            and token.text.lower() in date_columns
            and not _is(out, _next(out, index), "(")
        ):
            operator = _next(out, index)
            if _is(out, operator, "+") or _is(out, operator, "-"):
                raise NotSimulated(
                    f"date arithmetic on the column {token.text}",
                    "SQLite would compute it on the date's text; compare the column with"
                    " SYSDATE - n or TO_DATE(...) instead",
                )
        if end is None:
            index += 1
            continue
        operator = _next(out, end)
        if _is(out, operator, "+") or _is(out, operator, "-"):
            amount = _next(out, operator)
            if amount >= len(out) or out[amount].kind != "number":
                raise NotSimulated(
                    "date arithmetic with something other than a number of days",
                    "write <date> + n or <date> - n with a literal n",
                )
            sign = "-" if out[operator].text == "-" else ""
            wrapped = f"NSWOO_DATE_ADD({_text(out[start : end + 1])}, {sign}{out[amount].text})"
            out[start : amount + 1] = _tokens(wrapped)
            continue  # the wrapped date may be followed by more arithmetic
        index = end + 1
    return out


def _fetch_first(tokens: list[_Tok]) -> list[_Tok]:
    """`[OFFSET m ROW[S]] [FETCH FIRST|NEXT n ROW[S] ONLY]` → `LIMIT n OFFSET m`."""
    out = list(tokens)
    index = 0
    while index < len(out):
        offset: str | None = None
        count: str | None = None
        start = index
        position = index
        if out[position].upper == "OFFSET":
            value = _next(out, position)
            unit = _next(out, value)
            if not (value < len(out) and out[value].kind == "number" and _row(out, unit)):
                index += 1
                continue  # SQLite's own `OFFSET m` after a LIMIT: left as written
            offset = out[value].text
            position = _next(out, unit)
        if _is(out, position, "FETCH"):
            first = _next(out, position)
            value = _next(out, first)
            unit = _next(out, value)
            only = _next(out, unit)
            if not (_is(out, first, "FIRST") or _is(out, first, "NEXT")):
                raise NotSimulated("this FETCH clause")
            if _is(out, unit, "PERCENT") or (value < len(out) and out[value].text == "%"):
                raise NotSimulated("FETCH ... PERCENT")
            if not (
                value < len(out)
                and out[value].kind == "number"
                and _row(out, unit)
                and _is(out, only, "ONLY")
            ):
                raise NotSimulated(
                    "this FETCH clause", "write FETCH FIRST n ROWS ONLY with a literal n"
                )
            count = out[value].text
            end = only
        elif offset is not None:
            end = _prev(out, position)
        else:
            index += 1
            continue
        limit = f"LIMIT {count if count is not None else -1}"
        if offset is not None:
            limit += f" OFFSET {offset}"
        out[start : end + 1] = [_Tok("word", limit)]
        index = start + 1
    return out


def _row(tokens: Sequence[_Tok], index: int) -> bool:
    return _is(tokens, index, "ROW") or _is(tokens, index, "ROWS")


def _top_level_limit(tokens: Sequence[_Tok]) -> bool:
    depth = 0
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif depth == 0 and token.kind == "word" and token.upper.startswith("LIMIT"):
            return True
    return False


# -- query blocks and ROWNUM ------------------------------------------------------------------


@attrs.define
class _Block:
    """One SELECT at one parenthesis depth: where its clauses start and where it ends."""

    start: int
    depth: int
    end: int = 0
    clauses: dict[str, int] = attrs.field(factory=dict)
    distinct: bool = False
    aggregate: bool = False
    compound: bool = False
    limit: int | None = None

    def region(self, clause: str) -> tuple[int, int]:
        """Token range of a clause's body, up to the next clause of this block."""
        begin = self.clauses[clause]
        following = [i for i in self.clauses.values() if i > begin]
        return begin + 1, min(following, default=self.end)


def _blocks(tokens: Sequence[_Tok]) -> list[_Block]:
    depths = []
    depth = 0
    for token in tokens:
        if token.text == ")":
            depth -= 1
        depths.append(depth)
        if token.text == "(":
            depth += 1
    blocks = []
    for index, token in enumerate(tokens):
        if token.upper != "SELECT":
            continue
        block = _Block(start=index, depth=depths[index])
        position = index + 1
        while position < len(tokens):
            current = tokens[position]
            if depths[position] < block.depth or (
                depths[position] == block.depth and current.upper in _SET_OPERATORS
            ):
                if current.upper in _SET_OPERATORS:
                    block.compound = True
                break
            if depths[position] == block.depth and current.kind == "word":
                word = current.upper
                if word in _CLAUSES and word not in block.clauses:
                    block.clauses[word] = position
                elif word.startswith("LIMIT"):
                    block.limit = position
                elif word == "DISTINCT" and _prev(tokens, position) == index:
                    block.distinct = True
                elif word in _AGGREGATES and _is(tokens, _next(tokens, position), "("):
                    block.aggregate = True
            position += 1
        block.end = position
        before = _prev(tokens, index)
        if before >= 0 and tokens[before].upper in _SET_OPERATORS:
            block.compound = True
        blocks.append(block)
    return blocks


_COMPARISONS = frozenset({"<", "<=", "=", ">", ">=", "<>", "!="})
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "!="}


def _rownum(tokens: list[_Tok]) -> list[_Tok]:
    positions = [
        i
        for i, t in enumerate(tokens)
        if t.kind == "word" and t.upper == "ROWNUM" and not _is(tokens, _prev(tokens, i), ".")
    ]
    if not positions:
        return tokens
    blocks = _blocks(tokens)
    edits: list[tuple[int, int, str]] = []
    limits: dict[int, int] = {}
    for position in positions:
        owner = max(
            (b for b in blocks if b.start < position < b.end),
            key=lambda b: b.depth,
            default=None,
        )
        if owner is None:
            raise NotSimulated("ROWNUM outside a SELECT")
        select_end = owner.clauses.get("FROM", owner.end)
        if owner.start < position < select_end:
            # Numbered before the block's ORDER BY, as Oracle numbers them.
            edits.append((position, position, "ROW_NUMBER() OVER ()"))
            continue
        if "WHERE" not in owner.clauses:
            raise NotSimulated("ROWNUM outside the select list and the WHERE clause")
        begin, finish = owner.region("WHERE")
        if not begin <= position < finish:
            raise NotSimulated("ROWNUM outside the select list and the WHERE clause")
        first, last, keep = _rownum_condition(tokens, begin, finish, position)
        if owner.compound or owner.limit is not None:
            raise NotSimulated("a ROWNUM condition in a UNION member or beside FETCH/LIMIT")
        if owner.distinct or owner.aggregate or {"GROUP", "HAVING", "ORDER"} & set(owner.clauses):
            raise NotSimulated(
                "a ROWNUM condition with ORDER BY, GROUP BY, DISTINCT or aggregates",
                "Oracle numbers rows before sorting and grouping, so the result is not the"
                " first rows of the sorted result; use FETCH FIRST n ROWS ONLY, or ROWNUM"
                " over an ordered subquery",
            )
        if keep is None:
            edits.append((first, last, "0 = 1"))  # Oracle's ROWNUM > 1 trap: no row
        else:
            edits.append((first, last, "1 = 1"))
            limits[owner.end] = min(keep, limits.get(owner.end, keep))
    for end, keep in limits.items():
        edits.append((end, end - 1, f" LIMIT {keep} "))
    out = list(tokens)
    for first, last, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out[first : last + 1] = [_Tok("word", text)]
    return out


def _rownum_condition(
    tokens: Sequence[_Tok], begin: int, finish: int, position: int
) -> tuple[int, int, int | None]:
    """The conjunct of a WHERE holding ROWNUM: its token range and the rows it keeps.

    Returns `(first, last, keep)`: `keep` is the number of leading rows the condition
    keeps, or None when it keeps none (`ROWNUM > 1`, `ROWNUM = 2`: Oracle numbers a row 1
    until one passes, so those never pass).
    """
    # Split the WHERE body into top-level AND conjuncts (BETWEEN's AND stays inside).
    depth = 0
    conjuncts: list[tuple[int, int]] = []
    current = begin
    between = False
    for index in range(begin, finish):
        token = tokens[index]
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif depth == 0 and token.upper == "BETWEEN":
            between = True
        elif depth == 0 and token.upper == "AND":
            if between:
                between = False
            else:
                conjuncts.append((current, index - 1))
                current = index + 1
        elif depth == 0 and token.upper == "OR":
            raise NotSimulated("ROWNUM in a WHERE clause with OR at its top level")
    conjuncts.append((current, finish - 1))
    for first, last in conjuncts:
        if not first <= position <= last:
            continue
        words = [t for t in tokens[first : last + 1] if t.kind != "ws"]
        while words and words[0].text == "(" and words[-1].text == ")":
            words = words[1:-1]
        return (*_trim(tokens, first, last), _rows_kept(words))
    raise NotSimulated("this ROWNUM condition")


def _trim(tokens: Sequence[_Tok], first: int, last: int) -> tuple[int, int]:
    while tokens[first].kind == "ws":
        first += 1
    while tokens[last].kind == "ws":
        last -= 1
    return first, last


def _rows_kept(words: Sequence[_Tok]) -> int | None:
    texts = [w.upper for w in words]
    if len(words) == 5 and texts[0] == "ROWNUM" and texts[1] == "BETWEEN" and texts[3] == "AND":
        low, high = _integer(words[2]), _integer(words[4])
        if low <= 1:
            return max(high, 0)
        return None if high >= low else 0
    if len(words) == 3 and "ROWNUM" in (texts[0], texts[2]):
        if texts[0] == "ROWNUM":
            operator, bound = texts[1], _integer(words[2])
        else:
            operator, bound = _FLIPPED.get(texts[1], ""), _integer(words[0])
        if operator not in _COMPARISONS:
            raise NotSimulated("this ROWNUM comparison")
        # The first candidate row is numbered 1; it passes or nothing ever does.
        passes_one = {
            "<": bound > 1,
            "<=": bound >= 1,
            "=": bound == 1,
            ">": bound < 1,
            ">=": bound <= 1,
            "<>": bound != 1,
            "!=": bound != 1,
        }[operator]
        if not passes_one:
            return None
        bounded = {"<": bound - 1, "<=": bound, "=": 1}
        return bounded.get(operator, _UNBOUNDED)
    raise NotSimulated(
        "this ROWNUM condition", "write ROWNUM <= n (or <, =, BETWEEN) with a literal n"
    )


_UNBOUNDED = 2**62  # `ROWNUM > 0`, `ROWNUM <> 5` ...: every row passes until the count says


def _integer(token: _Tok) -> int:
    if token.kind != "number" or "." in token.text:
        raise NotSimulated("ROWNUM compared with something other than a whole number")
    return int(token.text)


# -- functions the store registers ------------------------------------------------------------


def to_date(value: object, directive: object) -> str | None:
    """`TO_DATE(value, format)` as ISO text: `YYYY-MM-DD`, or with ` HH:MM:SS` when set.

    Raises:
        ValueError: the value does not match the format (NetSuite refuses the query).
    """
    if value is None:
        return None
    parsed = datetime.strptime(str(value).strip(), str(directive))
    return _iso(parsed)


def date_add(value: object, days: object) -> str | None:
    """An ISO date or date-time plus a (possibly fractional) number of days."""
    if value is None or days is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    return _iso(parsed + timedelta(days=float(str(days))))


def oracle_trunc(value: object, digits: object = 0) -> str | int | float | None:
    """Oracle's TRUNC: a date to its day, a number toward zero to `digits` places."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date().isoformat()
        except ValueError:
            raise ValueError(f"TRUNC of {value!r}") from None
    places = int(str(digits))
    factor = 10**places
    number = float(str(value))
    truncated = int(number * factor) / factor
    return int(truncated) if places <= 0 else truncated


def sysdate(now: Callable[[], float]) -> Callable[[], str]:
    """SYSDATE on the simulator's clock: ISO date and time, UTC, whole seconds."""

    def current() -> str:
        return datetime.fromtimestamp(int(now()), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")

    return current


def _iso(moment: datetime) -> str:
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M:%S")
