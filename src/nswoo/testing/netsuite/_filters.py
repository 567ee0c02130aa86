"""Record collection filtering: the `q` parameter of `GET /record/v1/<type>`, compiled to SQL.

Oracle, Record Collection Filtering (ns-online-help/section_1545222128.html): "Each
condition consists of a field name, an operator, and a value. You can join several
conditions using the AND / OR logical operators, and you can use () to mark precedence."
Operators by field type, from the same page:

- none: `EMPTY`, `EMPTY_NOT` (no value);
- boolean: `IS`, `IS_NOT`;
- number: `ANY_OF`, `BETWEEN` (and their `_NOT`), `EQUAL`, `GREATER`, `GREATER_OR_EQUAL`,
  `LESS`, `LESS_OR_EQUAL` (and `_NOT`), `WITHIN`;
- string: `CONTAIN`, `IS`, `START_WITH`, `END_WITH` (and `_NOT`);
- date/time: `AFTER`, `BEFORE`, `ON`, `ON_OR_AFTER`, `ON_OR_BEFORE` (and `_NOT`).

Values are a word, a "quoted string", a number, `true`/`false`, or a `[a, b]` list for
`ANY_OF` and `BETWEEN`. The filter runs as SQL on the simulator's SuiteQL tables, so it uses
their indexes. String comparisons ignore case (NetSuite's searches do; the page is silent).
Date operators and `WITHIN` are not simulated: N/query reads dates in the user's date format
preference, which the reference does not pin down.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs

__all__ = ["FilterError", "FilterField", "FilterNotSimulated", "Kind", "compile_filter"]

Kind = Literal["string", "number", "boolean", "date"]


@attrs.frozen
class FilterField:
    """A filterable field: its SQL column and its type."""

    column: str
    kind: Kind


class FilterError(Exception):
    """A `q` NetSuite would refuse (syntax, unknown field, operator not for the type)."""


class FilterNotSimulated(Exception):
    """A valid `q` form the simulator does not answer; the message names it."""


_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[()\[\],])|(?P<word>[^\s()\[\],"]+))'
)

_OPERATORS: dict[str, frozenset[Kind]] = {
    "EMPTY": frozenset({"string", "number", "boolean", "date"}),
    "IS": frozenset({"string", "boolean"}),
    "CONTAIN": frozenset({"string"}),
    "START_WITH": frozenset({"string"}),
    "END_WITH": frozenset({"string"}),
    "ENDWITH": frozenset({"string"}),  # spelled so in Oracle's operator table
    "EQUAL": frozenset({"number"}),
    "GREATER": frozenset({"number"}),
    "GREATER_OR_EQUAL": frozenset({"number"}),
    "LESS": frozenset({"number"}),
    "LESS_OR_EQUAL": frozenset({"number"}),
    "ANY_OF": frozenset({"number"}),
    "BETWEEN": frozenset({"number"}),
}
_UNSIMULATED = frozenset({"WITHIN", "AFTER", "BEFORE", "ON", "ON_OR_AFTER", "ON_OR_BEFORE"})
_COMPARE = {"EQUAL": "=", "GREATER": ">", "GREATER_OR_EQUAL": ">=", "LESS": "<"}
_COMPARE["LESS_OR_EQUAL"] = "<="


def compile_filter(q: str, fields: Mapping[str, FilterField]) -> tuple[str, list[object]]:
    """`q` as an SQL condition with `?` parameters.

    Args:
        q: the filter as sent (already URL-decoded).
        fields: REST field name → its column and type (field names compare exactly, as
            NetSuite's do).

    Raises:
        FilterError: NetSuite would refuse the filter.
        FilterNotSimulated: a date or WITHIN condition.
    """
    tokens = _tokenize(q)
    parser = _Parser(tokens, fields)
    sql = parser.expression()
    if parser.position != len(tokens):
        raise FilterError(f"unexpected {tokens[parser.position][1]!r}")
    return sql, parser.params


def _tokenize(q: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    text = q.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"cannot read {text[position:]!r}")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


@attrs.define
class _Parser:
    tokens: Sequence[tuple[str, str]]
    fields: Mapping[str, FilterField]
    position: int = 0
    params: list[object] = attrs.field(factory=list)

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise FilterError("the filter ends too early")
        self.position += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1].upper() == word:
            self.position += 1
            return True
        return False

    def expression(self) -> str:
        parts = [self.term()]
        while self._keyword("OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self._keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        token = self._peek()
        if token == ("punct", "("):
            self.position += 1
            inner = self.expression()
            if self._take() != ("punct", ")"):
                raise FilterError("a parenthesis is not closed")
            return f"({inner})"
        return self.condition()

    def condition(self) -> str:
        kind, name = self._take()
        if kind != "word":
            raise FilterError(f"expected a field name, got {name!r}")
        field = self.fields.get(name)
        if field is None:
            raise FilterError(f"{name} is not a filterable field")
        kind, operator = self._take()
        operator = operator.upper()
        negated = operator.endswith("_NOT")
        base = operator.removesuffix("_NOT") if negated else operator
        if base in _UNSIMULATED or field.kind == "date":
            raise FilterNotSimulated(f"the filter {name} {operator}")
        if kind != "word" or base not in _OPERATORS:
            raise FilterError(f"unknown operator {operator}")
        if field.kind not in _OPERATORS[base]:
            raise FilterError(f"{operator} does not apply to the {field.kind} field {name}")
        sql = self._condition(field, base)
        return f"NOT ({sql})" if negated else sql

    def _condition(self, field: FilterField, operator: str) -> str:
        column = field.column
        if operator == "EMPTY":
            if field.kind == "string":
                return f"({column} IS NULL OR {column} = '')"
            return f"{column} IS NULL"
        if operator in ("ANY_OF", "BETWEEN"):
            values = [self._number(value) for value in self._list()]
            if operator == "BETWEEN":
                if len(values) != 2:
                    raise FilterError("BETWEEN takes two values")
                self.params.extend(values)
                return f"{column} BETWEEN ? AND ?"
            if not values:
                raise FilterError("ANY_OF takes at least one value")
            self.params.extend(values)
            return f"{column} IN ({', '.join('?' for _ in values)})"
        value = self._value()
        if field.kind == "boolean":
            if value.lower() not in ("true", "false"):
                raise FilterError(f"{value!r} is not true or false")
            self.params.append("T" if value.lower() == "true" else "F")
            return f"{column} = ?"
        if field.kind == "number":
            self.params.append(self._number(value))
            return f"{column} {_COMPARE[operator]} ?"
        if operator == "IS":
            self.params.append(value)
            return f"LOWER({column}) = LOWER(?)"
        pattern = _like(value)
        self.params.append(
            {"CONTAIN": f"%{pattern}%", "START_WITH": f"{pattern}%"}.get(operator, f"%{pattern}")
        )
        return f"{column} LIKE ? ESCAPE '\\'"

    def _value(self) -> str:
        kind, text = self._take()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "word" and text.upper() not in ("AND", "OR"):
            return text
        raise FilterError(f"expected a value, got {text!r}")

    def _list(self) -> list[str]:
        if self._peek() != ("punct", "["):
            return [self._value()]
        self.position += 1
        values = []
        while True:
            values.append(self._value())
            kind, text = self._take()
            if (kind, text) == ("punct", "]"):
                return values
            if (kind, text) != ("punct", ","):
                raise FilterError(f"expected , or ] in a list, got {text!r}")

    @staticmethod
    def _number(value: str) -> int | float:
        try:
            number = float(value)
        except ValueError:
            raise FilterError(f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise FilterError(f"{value!r} is not a number")
        return int(number) if number.is_integer() and abs(number) < 2**63 else number


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
