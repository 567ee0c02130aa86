"""The mapping configuration: the non-secret TOML file named by `NSWOO_<ENV>_CONFIG`.

It says how orders map (store name, custom field, customer, order-level items), which
locations and owners stock comes from, reconciliation tolerances and where alerts go. Secrets
stay in environment variables (`_env.py`).

The attrs classes below are the schema: each key's type, its default (written once, here),
and its rules (as `Annotated` metadata on the type, or `_RULES` across fields). A dedicated
cattrs converter reads the file into them (`_structure.py`): unknown keys, wrong types and
bad values are refused in one `SettingsRefused` whose problems name the full key path
(`orders.customer.strategy`); money is `Decimal`, never float. A refused value is shown only
as its first characters and length (`shown_value`), and the file's path whole only when it
ends in `.toml`: whatever is in the wrong place may be a pasted secret.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Final, Literal

import attrs

from ._env import SettingsRefused, shown_path, shown_value
from ._structure import (
    Check,
    Parse,
    Refused,
    Rules,
    at_least,
    make_converter,
    matches,
    structure,
    toml_type,
)
from ._urls import redact_url, url_problem

__all__ = [
    "Config",
    "CustomerStrategy",
    "EmailTarget",
    "InventoryConfig",
    "NotifyConfig",
    "OfficeHours",
    "OrdersConfig",
    "Owner",
    "OwnerRule",
    "ReconcileConfig",
    "ReconcileTolerance",
    "StockPolicy",
    "WebhooksConfig",
    "load_config",
    "parse_config",
]

Owner = Literal["netsuite", "woocommerce"]
StockPolicy = Literal["overwrite", "status-only"]


# ---------------------------------------------------------------------------------------------
# Value rules: what a key holds beyond its TOML type

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SLUG = "a WooCommerce status slug (lower-case letters, digits, '-', '_')"


def _internal_id(value: object) -> int | None:
    """A NetSuite internal id written in the file, where 0 means "not used" (None)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refused(f"must be an integer, got {toml_type(value)}")
    if value < 0:
        raise Refused("must be at least 0")
    return value or None


def _no_draft(statuses: tuple[str, ...]) -> str | None:
    # Draft orders are carts still in checkout, never imported (DESIGN, behaviour 4).
    if "checkout-draft" in statuses:
        return "must not include 'checkout-draft' (carts still in checkout)"
    return None


def _zone(name: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder of the zone database ('America') or an unreadable zone file.
        return f"is not a known IANA time zone: {shown_value(name)}"
    return None


def _days(value: object) -> tuple[int, ...]:
    """`mon-fri` → (0..4); `mon,wed,fri` → (0, 2, 4); `fri-mon` wraps over the weekend."""
    if not isinstance(value, str):
        raise Refused(f"must be a string, got {toml_type(value)}")
    days: set[int] = set()
    for part in value.lower().replace(" ", "").split(","):
        first, sep, last = part.partition("-")
        if first not in _DAYS or (sep and last not in _DAYS):
            raise Refused("must be day names or ranges such as 'mon-fri' or 'mon,wed,fri'")
        a = _DAYS.index(first)
        b = _DAYS.index(last) if sep else a
        days.update((a + step) % 7 for step in range((b - a) % 7 + 1))
    return tuple(sorted(days))


def _hhmm(value: object) -> dt.time:
    if not isinstance(value, str):
        raise Refused(f"must be a string, got {toml_type(value)}")
    match = _HHMM.fullmatch(value)
    if match is None:
        raise Refused(f"must be a time HH:MM (00:00 to 23:59), got {shown_value(value)}")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _url(*schemes: str) -> Check:
    # Notifier URLs may carry credentials and tokens (SMTP login, a hook's secret path or
    # query); the shared URL rules still refuse other schemes and plain http off loopback.
    return Check(
        lambda url: url_problem(url, schemes=schemes, credentials=True, query=True) if url else None
    )


def _email(address: str) -> str | None:
    return None if "@" in address.strip("@") else "must be an e-mail address"


# netsuite.md §3: externalId allows letters, digits, `_` and `-`; the store name is part of
# `woo-<store>-<order id>`.
StoreName = Annotated[
    str,
    matches(
        re.compile(r"^[A-Za-z0-9_-]+$"),
        "may contain only letters, digits, '_' and '-' (externalId)",
    ),
]
# netsuite.md §7: transaction body custom fields have script ids prefixed `custbody`. The id
# is also a SuiteQL column name, so nothing but identifier characters may pass.
BodyFieldId = Annotated[
    str,
    matches(
        re.compile(r"^custbody[a-z0-9_]+$", re.IGNORECASE),
        "must be a transaction body field id: 'custbody' followed by letters, digits or '_'",
    ),
]
ItemColumn = Annotated[
    str,
    matches(
        re.compile(r"^[a-z][a-z0-9_]*$"),
        "must be a NetSuite item column name (lower-case letters, digits, '_')",
    ),
]
StatusSlug = Annotated[str, matches(re.compile(r"^[a-z0-9_-]+$"), f"must be {_SLUG}")]
ImportedStatuses = Annotated[tuple[StatusSlug, ...], Check(_no_draft)]
InternalId = Annotated[int | None, Parse(_internal_id)]
LocationId = Annotated[
    int, Check(lambda v: None if v > 0 else "must be a NetSuite location id (a positive integer)")
]
Count = Annotated[int, at_least(0)]
Bytes = Annotated[int, at_least(1)]
Pattern = Annotated[
    str,
    Check(
        lambda v: None if v else "must not be empty (an fnmatch pattern on the SKU, e.g. 'ACME-*')"
    ),
]
EmailAddress = Annotated[str, Check(_email)]
TimeZoneName = Annotated[str, Check(_zone)]
Weekdays = Annotated[tuple[int, ...], Parse(_days)]
ClockTime = Annotated[dt.time, Parse(_hhmm)]
SmtpUrl = Annotated[str, _url("smtp", "smtps")]
HookUrl = Annotated[str, _url("https", "http")]


# ---------------------------------------------------------------------------------------------
# The configuration values


@attrs.frozen
class CustomerStrategy:
    """Which NetSuite customer a WooCommerce order is booked to.

    `strategy="single"`: every order goes to the customer whose internal id is `id`.
    `strategy="by-email"`: the customer is looked up by the order's billing e-mail (`id` is
    None).
    """

    strategy: Literal["single", "by-email"] = "single"
    id: int | None = None


@attrs.frozen
class OrdersConfig:
    """How WooCommerce orders become NetSuite sales orders.

    `store` is part of the sales order's `externalId` (`woo-<store>-<order id>`).
    The item ids, `location` and `subsidiary` are NetSuite internal ids; None = not used
    (written `0` in the file).
    """

    store: StoreName
    custom_field: BodyFieldId = "custbody_nswoo_woo_order_id"
    statuses: ImportedStatuses = ("processing", "on-hold", "completed")
    customer: CustomerStrategy = CustomerStrategy()
    location: InternalId = None
    subsidiary: InternalId = None
    item_match: ItemColumn = "itemid"
    shipping_item: InternalId = None
    discount_item: InternalId = None
    fee_item: InternalId = None
    tax_item: InternalId = None


@attrs.frozen
class WebhooksConfig:
    """The webhook receiver: bodies over `max_body_bytes` are answered 413."""

    max_body_bytes: Bytes = 5_242_880


@attrs.frozen
class OwnerRule:
    """SKUs matching `pattern` (fnmatch, case-sensitive) have their stock owned by `owner`."""

    pattern: Pattern
    owner: Owner

    def matches(self, sku: str) -> bool:
        """Whether `sku` matches this rule's pattern."""
        # fnmatchcase: fnmatch() would follow the OS's case rules, so results would differ
        # between Windows and Linux.
        return fnmatch.fnmatchcase(sku, self.pattern)


@attrs.frozen
class InventoryConfig:
    """Availability and stock push (behaviour 5).

    `locations` are the NetSuite location ids summed (empty = all). Only SKUs that
    `owner_of` gives to `"netsuite"` are pushed.
    """

    locations: tuple[LocationId, ...] = ()
    safety_stock: Count = 0
    in_flight_days: Count = 7
    policy: StockPolicy = "overwrite"
    owners: tuple[OwnerRule, ...] = (OwnerRule("*", "netsuite"),)

    def owner_of(self, sku: str) -> Owner | None:
        """The owner of `sku`'s stock: the first rule that matches wins; None when none does."""
        for rule in self.owners:
            if rule.matches(sku):
                return rule.owner
        return None


@attrs.frozen
class ReconcileTolerance:
    """Deltas within these bounds (absolute values) are not differences."""

    items: Count = 0
    inventory_value: Decimal = Decimal("0.00")
    open_order_value: Decimal = Decimal("0.00")


@attrs.frozen
class ReconcileConfig:
    """Reconciliation (behaviour 7): tolerances and which WooCommerce statuses are open."""

    tolerance: ReconcileTolerance = ReconcileTolerance()
    open_statuses: tuple[StatusSlug, ...] = ("processing", "on-hold")


def _url_repr(url: str) -> str:
    return repr(redact_url(url))


@attrs.frozen
class EmailTarget:
    """Alert e-mail: disabled while `to` is empty. `smtp_url` is `smtp://` or `smtps://`."""

    to: tuple[EmailAddress, ...] = ()
    sender: str = ""
    smtp_url: SmtpUrl = attrs.field(default="", repr=_url_repr)

    @property
    def enabled(self) -> bool:
        """Whether alerts are sent by e-mail."""
        return bool(self.to)


@attrs.frozen
class OfficeHours:
    """When a page may go out. `days` are `datetime.weekday()` numbers (Monday = 0).

    `start`/`end` are local times in `timezone`; an `end` before `start` is a window that
    runs past midnight (it belongs to the day it starts on). In the file, `days` is written
    as names and ranges (`"mon-fri"`, `"mon,wed,fri"`) and the times as `"HH:MM"`.
    """

    timezone: TimeZoneName = "UTC"
    days: Weekdays = (0, 1, 2, 3, 4)
    start: ClockTime = dt.time(9, 0)
    end: ClockTime = dt.time(17, 0)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The time zone as a `ZoneInfo`."""
        return zoneinfo.ZoneInfo(self.timezone)

    def contains(self, moment: dt.datetime) -> bool:
        """Whether the aware datetime `moment` falls inside the office hours.

        Raises:
            ValueError: `moment` is naive (a naive time has no place in any time zone).
        """
        if moment.tzinfo is None:
            raise ValueError("OfficeHours.contains needs an aware datetime")
        local = moment.astimezone(self.zone)
        now, day = local.time().replace(tzinfo=None), local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= now < self.end
        if now >= self.start:
            return day in self.days
        return now < self.end and (day - 1) % 7 in self.days


@attrs.frozen
class NotifyConfig:
    """Where alerts go (e-mail, a generic JSON webhook, always the log) and when."""

    email: EmailTarget = EmailTarget()
    webhook_url: HookUrl = attrs.field(default="", repr=lambda url: repr("***" if url else ""))
    office_hours: OfficeHours = OfficeHours()


@attrs.frozen
class Config:
    """The whole mapping configuration.

    Example:
        >>> cfg = parse_config('''
        ... [orders]
        ... store = "main"
        ... customer = { strategy = "by-email" }
        ... ''')
        >>> cfg.orders.store, cfg.inventory.owner_of("ABC-1")
        ('main', 'netsuite')
    """

    orders: OrdersConfig
    webhooks: WebhooksConfig = WebhooksConfig()
    inventory: InventoryConfig = InventoryConfig()
    reconcile: ReconcileConfig = ReconcileConfig()
    notify: NotifyConfig = NotifyConfig()

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Config:
        """Build a `Config` from parsed TOML (or any mapping of the same shape).

        Raises:
            SettingsRefused: listing every problem, each named by its full key path.
        """
        return structure(_CONVERTER, data, cls, required=_REQUIRED)


# ---------------------------------------------------------------------------------------------
# Rules across fields, and what a missing required key should say


def _customer_rules(customer: CustomerStrategy) -> Sequence[tuple[str, str]]:
    if customer.strategy == "by-email":
        if customer.id is not None:
            return [("id", "is only used when orders.customer.strategy is 'single'")]
        return []
    if customer.id is None:
        return [("id", "is required when orders.customer.strategy is 'single'")]
    if customer.id <= 0:
        return [("id", "must be the NetSuite internal id of the customer (a positive integer)")]
    return []


def _email_rules(email: EmailTarget) -> Sequence[tuple[str, str]]:
    problems = []
    if email.to and not email.sender:
        problems.append(("sender", "is required when notify.email.to is set"))
    if email.to and not email.smtp_url:
        problems.append(
            ("smtp_url", "is required when notify.email.to is set (smtp:// or smtps://)")
        )
    return problems


def _office_hours_rules(hours: OfficeHours) -> Sequence[tuple[str, str]]:
    if hours.start == hours.end:
        return [("end", "must differ from notify.office_hours.start")]
    return []


_RULES: Final[Mapping[type, Rules]] = {
    CustomerStrategy: _customer_rules,
    EmailTarget: _email_rules,
    OfficeHours: _office_hours_rules,
}
_REQUIRED: Final = {
    (OrdersConfig, "store"): "is required (it becomes part of externalId woo-<store>-<order id>)",
    (OwnerRule, "pattern"): "is required (an fnmatch pattern on the SKU, e.g. 'ACME-*')",
    (OwnerRule, "owner"): "is required: 'netsuite' or 'woocommerce'",
}
# Built once at import and never changed afterwards: a configured value, not shared state.
_CONVERTER: Final = make_converter(_RULES)


# ---------------------------------------------------------------------------------------------
# Reading the file


def parse_config(text: str, *, source: str = "config") -> Config:
    """Parse the TOML text of a mapping configuration.

    Args:
        text: the TOML document.
        source: what to call the document in a TOML syntax error (a file path).

    Raises:
        SettingsRefused: the TOML is malformed (the problem names `source` and the line) or
            its content is refused (each problem names its key path).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message ends in "(at line N, column M)" and holds no file content; an error
        # at the end of the document has no line, so name the last line that has text.
        where = str(exc)
        if "line" not in where:
            where += f" (after line {text.rstrip().count(chr(10)) + 1})"
        raise SettingsRefused([(source, f"is not valid TOML: {where}")]) from exc
    return Config.from_mapping(data)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate the mapping configuration file at `path` (TOML, UTF-8).

    Raises:
        SettingsRefused: the file cannot be read, is not TOML, or its content is refused.
            Problems about the file itself are keyed by its path, shown whole when it ends
            in `.toml` and otherwise only in part (the variable may hold a pasted secret).
    """
    name = shown_path(os.fspath(path), suffixes=(".toml",))
    try:
        text = Path(os.fspath(path)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise SettingsRefused([(name, f"cannot read the configuration file: {reason}")]) from exc
    return parse_config(text, source=name)
