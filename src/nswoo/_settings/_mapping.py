"""The mapping configuration: the non-secret TOML file named by `NSWOO_<ENV>_CONFIG`.

It says how orders map (store name, custom field, customer, order-level items), which
locations and owners stock comes from, reconciliation tolerances and where alerts go. Secrets
stay in environment variables (`_env.py`). Unknown keys, wrong types and bad values are
refused in one `SettingsRefused` whose problems name the full key path
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
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import attrs

from ._env import SettingsRefused, is_loopback_host, redact_url, shown_path, shown_value

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

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# netsuite.md §3: externalId allows letters, digits, `_` and `-`; the store name is part of
# `woo-<store>-<order id>`.
_STORE = re.compile(r"^[A-Za-z0-9_-]+$")
# netsuite.md §7: transaction body custom fields have script ids prefixed `custbody`. The id
# is also a SuiteQL column name, so nothing but identifier characters may pass.
_CUSTOM_FIELD = re.compile(r"^custbody[a-z0-9_]+$", re.IGNORECASE)
_COLUMN = re.compile(r"^[a-z][a-z0-9_]*$")
_STATUS = re.compile(r"^[a-z0-9_-]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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

    store: str
    custom_field: str = "custbody_nswoo_woo_order_id"
    statuses: tuple[str, ...] = ("processing", "on-hold", "completed")
    customer: CustomerStrategy = CustomerStrategy()
    location: int | None = None
    subsidiary: int | None = None
    item_match: str = "itemid"
    shipping_item: int | None = None
    discount_item: int | None = None
    fee_item: int | None = None
    tax_item: int | None = None


@attrs.frozen
class WebhooksConfig:
    """The webhook receiver: bodies over `max_body_bytes` are answered 413."""

    max_body_bytes: int = 5_242_880


@attrs.frozen
class OwnerRule:
    """SKUs matching `pattern` (fnmatch, case-sensitive) have their stock owned by `owner`."""

    pattern: str
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

    locations: tuple[int, ...] = ()
    safety_stock: int = 0
    in_flight_days: int = 7
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

    items: int = 0
    inventory_value: Decimal = Decimal("0.00")
    open_order_value: Decimal = Decimal("0.00")


@attrs.frozen
class ReconcileConfig:
    """Reconciliation (behaviour 7): tolerances and which WooCommerce statuses are open."""

    tolerance: ReconcileTolerance = ReconcileTolerance()
    open_statuses: tuple[str, ...] = ("processing", "on-hold")


def _url_repr(url: str) -> str:
    return repr(redact_url(url))


@attrs.frozen
class EmailTarget:
    """Alert e-mail: disabled while `to` is empty. `smtp_url` is `smtp://` or `smtps://`."""

    to: tuple[str, ...] = ()
    sender: str = ""
    smtp_url: str = attrs.field(default="", repr=_url_repr)

    @property
    def enabled(self) -> bool:
        """Whether alerts are sent by e-mail."""
        return bool(self.to)


@attrs.frozen
class OfficeHours:
    """When a page may go out. `days` are `datetime.weekday()` numbers (Monday = 0).

    `start`/`end` are local times in `timezone`; an `end` before `start` is a window that
    runs past midnight (it belongs to the day it starts on).
    """

    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)

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
    webhook_url: str = attrs.field(default="", repr=lambda url: repr("***" if url else ""))
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
        problems: list[tuple[str, str]] = []
        root = _Table(data, "", problems)
        orders = _orders(root.table("orders"))
        hooks = root.table("webhooks")
        webhooks = WebhooksConfig(
            max_body_bytes=hooks.integer("max_body_bytes", 5_242_880, minimum=1)
        )
        hooks.finish()
        inventory = _inventory(root.table("inventory"))
        reconcile = _reconcile(root.table("reconcile"))
        notify = _notify(root.table("notify"))
        root.finish()
        if problems or orders is None:
            raise SettingsRefused(problems or [("orders.store", "is required")])
        return cls(
            orders=orders,
            webhooks=webhooks,
            inventory=inventory,
            reconcile=reconcile,
            notify=notify,
        )


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


# ---------------------------------------------------------------------------------------------
# Reading tables

_T = TypeVar("_T")
_MISSING = object()


class _Table:
    """One TOML table at `path`: typed reads with defaults, unknown keys reported at the end."""

    def __init__(self, data: object, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()
        if isinstance(data, Mapping):
            self.data: Mapping[str, object] = data
        else:
            self.problem("", "must be a table")
            self.data = {}

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path and name else (name or self.path)

    def problem(self, name: str, message: str) -> None:
        self.problems.append((self.key(name), message))

    def raw(self, name: str) -> object:
        self.seen.add(name)
        return self.data.get(name, _MISSING)

    def has(self, name: str) -> bool:
        return name in self.data

    def table(self, name: str) -> _Table:
        value = self.raw(name)
        return _Table({} if value is _MISSING else value, self.key(name), self.problems)

    def typed(self, name: str, kind: type[_T], label: str, default: _T) -> _T:
        value = self.raw(name)
        if value is _MISSING:
            return default
        # TOML booleans are Python ints: refuse `true` where a number is expected.
        if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
            return value
        self.problem(name, f"must be {label}, got {_toml_type(value)}")
        return default

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        value = self.typed(name, int, "an integer", default)
        if value < minimum:
            self.problem(name, f"must be at least {minimum}")
            return default
        return value

    def internal_id(self, name: str) -> int | None:
        """A NetSuite internal id, where 0 (the default) means "not used"."""
        value = self.integer(name, 0)
        return value or None

    def string(
        self, name: str, default: str, *, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> str:
        value = self.typed(name, str, "a string", default)
        if pattern is not None and value != default and not pattern.fullmatch(value):
            self.problem(name, f"must be {what}")
            return default
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(name, default)
        if value not in choices:
            shown = shown_value(value)
            self.problem(name, f"must be one of {', '.join(map(repr, choices))}, got {shown}")
            return default
        return value

    def items(
        self, name: str, default: tuple[_T, ...], item: Callable[[object, str], _T | None]
    ) -> tuple[_T, ...]:
        value = self.raw(name)
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            self.problem(name, f"must be an array, got {_toml_type(value)}")
            return default
        out: list[_T] = []
        for index, element in enumerate(value):
            parsed = item(element, f"{self.key(name)}[{index}]")
            if parsed is not None:
                out.append(parsed)
        return tuple(out)

    def strings(
        self, name: str, default: tuple[str, ...], *, pattern: re.Pattern[str], what: str
    ) -> tuple[str, ...]:
        def one(element: object, key: str) -> str | None:
            if isinstance(element, str) and pattern.fullmatch(element):
                return element
            self.problems.append((key, f"must be {what}"))
            return None

        return self.items(name, default, one)

    def money(self, name: str, default: Decimal) -> Decimal:
        value = self.raw(name)
        if value is _MISSING:
            return default
        if isinstance(value, float):
            # Money is never a float: 0.1 + 0.2 != 0.3.
            self.problem(name, 'must be a decimal string such as "10.00", not a float')
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.problem(name, f'must be a decimal string such as "10.00", got {_toml_type(value)}')
            return default
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            self.problem(name, 'must be a non-negative decimal string such as "10.00"')
            return default
        return amount

    def finish(self) -> None:
        """Report every key nobody read: unknown keys are refused, not ignored."""
        for name in self.data:
            if name not in self.seen:
                self.problem(name, "is not a known key")


def _toml_type(value: object) -> str:
    names: dict[type, str] = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def _orders(t: _Table) -> OrdersConfig | None:
    store: str | None = None
    if not t.has("store"):
        t.problem("store", "is required (it becomes part of externalId woo-<store>-<order id>)")
        t.seen.add("store")
    else:
        raw = t.typed("store", str, "a string", "")
        if raw and _STORE.fullmatch(raw):
            store = raw
        elif isinstance(t.data.get("store"), str):
            # netsuite.md §3: externalId characters.
            t.problem("store", "may contain only letters, digits, '_' and '-' (externalId)")
    custom_field = t.string(
        "custom_field",
        "custbody_nswoo_woo_order_id",
        pattern=_CUSTOM_FIELD,
        what="a transaction body field id: 'custbody' followed by letters, digits or '_'",
    )
    statuses = t.strings(
        "statuses",
        ("processing", "on-hold", "completed"),
        pattern=_STATUS,
        what="a WooCommerce status slug (lower-case letters, digits, '-', '_')",
    )
    if "checkout-draft" in statuses:
        # Draft orders are carts still in checkout, never imported (DESIGN, behaviour 4).
        t.problem("statuses", "must not include 'checkout-draft' (carts still in checkout)")
    customer = _customer(t.table("customer"))
    orders = OrdersConfig(
        store=store or "",
        custom_field=custom_field,
        statuses=statuses,
        customer=customer,
        location=t.internal_id("location"),
        subsidiary=t.internal_id("subsidiary"),
        item_match=t.string(
            "item_match",
            "itemid",
            pattern=_COLUMN,
            what="a NetSuite item column name (lower-case letters, digits, '_')",
        ),
        shipping_item=t.internal_id("shipping_item"),
        discount_item=t.internal_id("discount_item"),
        fee_item=t.internal_id("fee_item"),
        tax_item=t.internal_id("tax_item"),
    )
    t.finish()
    return orders if store else None


def _customer(t: _Table) -> CustomerStrategy:
    strategy = t.choice("strategy", "single", ("single", "by-email"))
    result: CustomerStrategy
    if t.data.get("strategy", "single") not in ("single", "by-email"):
        # Already refused: whether `id` belongs here depends on the strategy meant.
        t.seen.add("id")
        result = CustomerStrategy()
    elif strategy == "single":
        if not t.has("id"):
            t.problem("id", "is required when orders.customer.strategy is 'single'")
            t.seen.add("id")
        customer_id = t.integer("id", 0)
        if t.has("id") and customer_id <= 0 and isinstance(t.data.get("id"), int):
            t.problem("id", "must be the NetSuite internal id of the customer (a positive integer)")
        result = CustomerStrategy("single", customer_id or None)
    else:
        if t.has("id"):
            t.problem("id", "is only used when orders.customer.strategy is 'single'")
            t.seen.add("id")
        result = CustomerStrategy("by-email", None)
    t.finish()
    return result


def _inventory(t: _Table) -> InventoryConfig:
    def location(element: object, key: str) -> int | None:
        if isinstance(element, int) and not isinstance(element, bool) and element > 0:
            return element
        t.problems.append((key, "must be a NetSuite location id (a positive integer)"))
        return None

    def owner_rule(element: object, key: str) -> OwnerRule | None:
        rule = _Table(element, key, t.problems)
        pattern = rule.typed("pattern", str, "a string", "")
        if not pattern:
            rule.problem("pattern", "is required (an fnmatch pattern on the SKU, e.g. 'ACME-*')")
            rule.seen.add("pattern")
        owner = rule.choice("owner", "", ("netsuite", "woocommerce"))
        rule.finish()
        if not pattern:
            return None
        if owner == "netsuite":
            return OwnerRule(pattern, "netsuite")
        if owner == "woocommerce":
            return OwnerRule(pattern, "woocommerce")
        return None

    policy = t.choice("policy", "overwrite", ("overwrite", "status-only"))
    config = InventoryConfig(
        locations=t.items("locations", (), location),
        safety_stock=t.integer("safety_stock", 0),
        in_flight_days=t.integer("in_flight_days", 7),
        policy="status-only" if policy == "status-only" else "overwrite",
        owners=t.items("owners", (OwnerRule("*", "netsuite"),), owner_rule),
    )
    t.finish()
    return config


def _reconcile(t: _Table) -> ReconcileConfig:
    tol = t.table("tolerance")
    tolerance = ReconcileTolerance(
        items=tol.integer("items", 0),
        inventory_value=tol.money("inventory_value", Decimal("0.00")),
        open_order_value=tol.money("open_order_value", Decimal("0.00")),
    )
    tol.finish()
    config = ReconcileConfig(
        tolerance=tolerance,
        open_statuses=t.strings(
            "open_statuses",
            ("processing", "on-hold"),
            pattern=_STATUS,
            what="a WooCommerce status slug (lower-case letters, digits, '-', '_')",
        ),
    )
    t.finish()
    return config


def _notify(t: _Table) -> NotifyConfig:
    email = _email(t.table("email"))
    webhook_url = t.string("webhook_url", "")
    if webhook_url:
        _check_url(t, "webhook_url", webhook_url, ("http", "https"))
    office_hours = _office_hours(t.table("office_hours"))
    t.finish()
    return NotifyConfig(email=email, webhook_url=webhook_url, office_hours=office_hours)


def _check_url(t: _Table, name: str, url: str, schemes: tuple[str, ...]) -> bool:
    """Check a URL without ever echoing it (it may carry a password or a token)."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        t.problem(name, "is not a valid URL")
        return False
    if parts.scheme not in schemes or not parts.hostname:
        t.problem(name, f"must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
        return False
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        t.problem(name, "may use http:// only for a loopback host; use https://")
        return False
    return True


def _email(t: _Table) -> EmailTarget:
    def address(element: object, key: str) -> str | None:
        if isinstance(element, str) and "@" in element.strip("@"):
            return element
        t.problems.append((key, "must be an e-mail address"))
        return None

    to = t.items("to", (), address)
    sender = t.string("sender", "")
    smtp_url = t.string("smtp_url", "")
    if smtp_url:
        _check_url(t, "smtp_url", smtp_url, ("smtp", "smtps"))
    if to and not sender:
        t.problem("sender", "is required when notify.email.to is set")
    if to and not smtp_url:
        t.problem("smtp_url", "is required when notify.email.to is set (smtp:// or smtps://)")
    t.finish()
    return EmailTarget(to=to, sender=sender, smtp_url=smtp_url)


def _office_hours(t: _Table) -> OfficeHours:
    default = OfficeHours()
    timezone = t.string("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder of the zone database ('America') or an unreadable zone file.
        t.problem("timezone", f"is not a known IANA time zone: {shown_value(timezone)}")
        timezone = "UTC"
    days_text = t.string("days", "mon-fri")
    days = _parse_days(days_text)
    if days is None:
        t.problem("days", "must be day names or ranges such as 'mon-fri' or 'mon,wed,fri'")
        days = default.days
    start = _parse_hhmm(t, "start", "09:00")
    end = _parse_hhmm(t, "end", "17:00")
    if start == end:
        t.problem("end", "must differ from notify.office_hours.start")
    t.finish()
    return OfficeHours(timezone=timezone, days=days, start=start, end=end)


def _parse_days(text: str) -> tuple[int, ...] | None:
    """`mon-fri` → (0..4); `mon,wed,fri` → (0, 2, 4); `fri-mon` wraps over the weekend."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, sep, last = part.partition("-")
        if first not in _DAYS or (sep and last not in _DAYS):
            return None
        a = _DAYS.index(first)
        b = _DAYS.index(last) if sep else a
        days.update((a + step) % 7 for step in range((b - a) % 7 + 1))
    return tuple(sorted(days))


def _parse_hhmm(t: _Table, name: str, default: str) -> dt.time:
    text = t.string(name, default)
    match = _HHMM.fullmatch(text)
    if match is None:
        t.problem(name, f"must be a time HH:MM (00:00 to 23:59), got {shown_value(text)}")
        match = _HHMM.fullmatch(default)
        assert match is not None  # noqa: S101 - the defaults above are well-formed
    return dt.time(int(match.group(1)), int(match.group(2)))
