"""Reading parsed TOML into frozen attrs classes with cattrs, refusing with every key path.

The mapping file's schema is its attrs classes (`_mapping.py`): each default is written
once, there. This module gives them a dedicated `cattrs.Converter` that is strict where
cattrs is lenient by default, and turns cattrs' validation errors into
`SettingsRefused` problems named by their full key path (`orders.customer.id`,
`inventory.owners[0].owner`), every problem at once:

- types are TOML's own: a string is not an integer (`"5"`), a boolean is not a number
  (`true`), a string is not an array (`"processing"` is not three-letter statuses), a
  value that should be a table must be one;
- unknown keys are refused (`forbid_extra_keys`), absent keys take the class default, a
  missing key without a default is "required";
- a table left out is read as an empty one, so its own rules still apply (a missing
  `[orders]` is reported as its missing `orders.store`);
- rules beyond the type sit on the field's type as `Annotated` metadata: `Check` (a test
  on the structured value) and `Parse` (a reader of the raw value, e.g. `"mon-fri"`);
  rules across fields are `Rules` registered per class.

A problem message never repeats the refused value whole: at most `shown_value` of it (a
secret may have been pasted into the wrong key).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn

from ._env import SettingsRefused, shown_value

__all__ = [
    "Check",
    "Parse",
    "Refused",
    "Rules",
    "at_least",
    "make_converter",
    "matches",
    "structure",
    "toml_type",
]

T = TypeVar("T")

Rules = Callable[[Any], Sequence[tuple[str, str]]]
"""Rules across the fields of one structured instance: `(field path, problem)` pairs."""


class Refused(Exception):
    """A value refused by a hook, with a message that never repeats it whole."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _FieldProblems(Exception):
    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = tuple(problems)


@attrs.frozen
class Check:
    """`Annotated` metadata: after structuring, `problem(value)` is None or the refusal."""

    problem: Callable[[Any], str | None]


@attrs.frozen
class Parse:
    """`Annotated` metadata: `read(raw)` builds the value itself, raising `Refused`."""

    read: Callable[[Any], Any]


def matches(pattern: typing.Pattern[str], message: str) -> Check:
    """A `Check` that the whole string matches `pattern`, refusing with `message`."""
    return Check(lambda value: None if pattern.fullmatch(value) else message)


def at_least(minimum: int) -> Check:
    """A `Check` that a number is at least `minimum`."""
    return Check(lambda value: None if value >= minimum else f"must be at least {minimum}")


def toml_type(value: object) -> str:
    """What kind of TOML value `value` is, for messages ("a string", "an array", ...)."""
    names: dict[type, str] = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def make_converter(rules: Mapping[type, Rules] | None = None) -> cattrs.Converter:
    """A converter for one schema of attrs classes, strict as the module docstring says.

    Args:
        rules: rules across fields, per class, run once all of a table's fields are read.
    """
    return _make_converter(rules or {})


def structure(
    converter: cattrs.Converter,
    data: Mapping[str, object],
    cls: type[T],
    *,
    required: Mapping[tuple[type, str], str] | None = None,
) -> T:
    """Structure parsed TOML into `cls`, or refuse with every problem and its key path.

    Args:
        converter: from `make_converter`.
        data: the parsed document.
        cls: the attrs class to build.
        required: the message for a missing key without a default, per (class, field),
            when "is required" alone would not say what to put there.

    Raises:
        SettingsRefused: listing every problem, each keyed by its full path.
    """
    try:
        return converter.structure(data, cls)
    except Exception as exc:  # every failure becomes a named problem, whatever its type
        problems = _problems(exc, "", required or {})
        raise SettingsRefused(problems or [("config", "is not valid")]) from None


# ---------------------------------------------------------------------------------------------
# The converter


def _make_converter(rules: Mapping[type, Rules]) -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(int | None, _structure_int)
    converter.register_structure_hook(Decimal, _structure_money)
    converter.register_structure_hook_factory(_is_literal, _literal_hook)
    converter.register_structure_hook_factory(
        _is_homogeneous_tuple, lambda t: _tuple_hook(t, converter)
    )
    converter.register_structure_hook_factory(
        _is_annotated_rule, lambda t: _annotated_hook(t, converter)
    )
    converter.register_structure_hook_factory(
        attrs.has, lambda cls: _table_hook(cls, converter, rules.get(cls))
    )
    return converter


def _structure_str(value: object, _type: object) -> str:
    if not isinstance(value, str):
        raise Refused(f"must be a string, got {toml_type(value)}")
    return value


def _structure_int(value: object, _type: object) -> int:
    # TOML booleans are Python ints: refuse `true` where a number is expected.
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refused(f"must be an integer, got {toml_type(value)}")
    return value


def _structure_money(value: object, _type: object) -> Decimal:
    if isinstance(value, float):
        # Money is never a float: 0.1 + 0.2 != 0.3.
        raise Refused('must be a decimal string such as "10.00", not a float')
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Refused(f'must be a decimal string such as "10.00", got {toml_type(value)}')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise Refused('must be a non-negative decimal string such as "10.00"')
    return amount


def _is_literal(type_: object) -> bool:
    return typing.get_origin(type_) is typing.Literal


def _literal_hook(type_: Any) -> Callable[[object, object], object]:
    choices = typing.get_args(type_)
    listed = ", ".join(map(repr, choices))

    def structure_literal(value: object, _type: object) -> object:
        if value in choices and type(value) in {type(choice) for choice in choices}:
            return value
        got = shown_value(value) if isinstance(value, str) else toml_type(value)
        raise Refused(f"must be one of {listed}, got {got}")

    return structure_literal


def _is_homogeneous_tuple(type_: object) -> bool:
    args = typing.get_args(type_)
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], object]:
    # cattrs turns any iterable into a tuple; a TOML string would become its characters.
    inner = homogenous_tuple_structure_factory(type_, converter)

    def structure_tuple(value: object, _type: object) -> object:
        if not isinstance(value, list):
            raise Refused(f"must be an array, got {toml_type(value)}")
        return inner(value, type_)

    return structure_tuple


def _rules_of(type_: object) -> tuple[Check | Parse, ...]:
    return tuple(m for m in getattr(type_, "__metadata__", ()) if isinstance(m, Check | Parse))


def _is_annotated_rule(type_: object) -> bool:
    return typing.get_origin(type_) is typing.Annotated and bool(_rules_of(type_))


def _annotated_hook(type_: Any, converter: cattrs.Converter) -> Callable[[object, object], object]:
    base = typing.get_args(type_)[0]
    rules = _rules_of(type_)
    parse = next((rule.read for rule in rules if isinstance(rule, Parse)), None)
    checks = [rule.problem for rule in rules if isinstance(rule, Check)]
    read = parse or (lambda value: converter.structure(value, base))

    def structure_annotated(value: object, _type: object) -> object:
        result = read(value)
        for check in checks:
            problem = check(result)
            if problem is not None:
                raise Refused(problem)
        return result

    return structure_annotated


def _table_hook(
    cls: type, converter: cattrs.Converter, rules: Rules | None
) -> Callable[[object, object], object]:
    attrs.resolve_types(cls)
    tables = [field.name for field in attrs.fields(cls) if attrs.has(field.type)]
    inner: Callable[[Mapping[str, object], type], object] = make_dict_structure_fn(cls, converter)

    def structure_table(value: object, _type: object) -> object:
        if not isinstance(value, Mapping):
            raise Refused(f"must be a table, got {toml_type(value)}")
        # A table left out is read as an empty one: its defaults come from its class, and
        # its required keys and rules still apply.
        data = {**{name: {} for name in tables if name not in value}, **value}
        instance = inner(data, cls)
        problems = rules(instance) if rules is not None else ()
        if problems:
            raise _FieldProblems(problems)
        return instance

    return structure_table


# ---------------------------------------------------------------------------------------------
# Problems with their key paths (the equivalent of `cattrs.transform_error`, keyed)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


def _problems(
    exc: BaseException, path: str, required: Mapping[tuple[type, str], str]
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            key = _join(path, note.name)
            if isinstance(sub, KeyError) and not isinstance(sub, cattrs.BaseValidationError):
                found.append((key, required.get((exc.cl, note.name), "is required")))
            else:
                found += _problems(sub, key, required)
        for sub in without:
            found += _problems(sub, path, required)
    elif isinstance(exc, IterableValidationError):
        with_index, without = exc.group_exceptions()
        for sub, index_note in with_index:
            found += _problems(sub, f"{path}[{index_note.index}]", required)
        for sub in without:
            found += _problems(sub, path, required)
    elif isinstance(exc, ForbiddenExtraKeysError):
        found += [(_join(path, name), "is not a known key") for name in sorted(exc.extra_fields)]
    elif isinstance(exc, _FieldProblems):
        found += [(_join(path, key), message) for key, message in exc.problems]
    elif isinstance(exc, Refused):
        found.append((path or "config", exc.message))
    else:
        # Never str(exc): a foreign message may quote the value.
        found.append((path or "config", "is not valid"))
    return found
