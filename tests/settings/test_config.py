"""The TOML mapping configuration: defaults, types, key paths in every refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo._settings import (
    Config,
    CustomerStrategy,
    InventoryConfig,
    OfficeHours,
    OwnerRule,
    SettingsRefused,
    load_config,
    parse_config,
)

MINIMAL = """
[orders]
store = "main"
customer = { strategy = "single", id = 42 }
"""

FULL = """
[orders]
store = "eu-shop_2"
custom_field = "custbody_woo_id"
statuses = ["processing", "completed"]
customer = { strategy = "by-email" }
location = 3
subsidiary = 2
item_match = "upccode"
shipping_item = 101
discount_item = 102
fee_item = 103
tax_item = 104
[webhooks]
max_body_bytes = 1048576
[inventory]
locations = [1, 2]
safety_stock = 2
in_flight_days = 3
policy = "status-only"
owners = [{ pattern = "DROP-*", owner = "woocommerce" }, { pattern = "*", owner = "netsuite" }]
[reconcile]
tolerance = { items = 1, inventory_value = "25.50", open_order_value = "0.01" }
open_statuses = ["processing"]
[notify]
webhook_url = "https://hooks.example/T000/secret-path"
[notify.email]
to = ["ops@example.com"]
sender = "nswoo@example.com"
smtp_url = "smtps://u:mailpw@mail.example:465"
[notify.office_hours]
timezone = "Europe/Berlin"
days = "mon,wed,fri-sat"
start = "08:30"
end = "18:00"
"""


def refused(text: str) -> SettingsRefused:
    """Parse `text` and return the refusal it must raise."""
    with pytest.raises(SettingsRefused) as info:
        parse_config(text)
    return info.value


def test_minimal_file_gets_every_documented_default() -> None:
    """Only orders.store and the customer id are required; the rest has DESIGN's defaults."""
    config = parse_config(MINIMAL)
    orders = config.orders
    assert orders.store == "main"
    assert orders.custom_field == "custbody_nswoo_woo_order_id"
    assert orders.statuses == ("processing", "on-hold", "completed")
    assert orders.customer == CustomerStrategy("single", 42)
    assert orders.item_match == "itemid"
    assert (orders.location, orders.subsidiary, orders.shipping_item, orders.tax_item) == (
        None,
        None,
        None,
        None,
    )
    assert config.webhooks.max_body_bytes == 5_242_880
    assert config.inventory == InventoryConfig()
    assert config.inventory.owners == (OwnerRule("*", "netsuite"),)
    assert config.reconcile.tolerance.inventory_value == Decimal("0.00")
    assert config.reconcile.open_statuses == ("processing", "on-hold")
    assert config.notify.email.enabled is False
    assert config.notify.office_hours == OfficeHours()


def test_full_file_is_read_into_typed_values() -> None:
    """Every key of the schema is read with its type; money is Decimal."""
    config = parse_config(FULL)
    assert config.orders.customer == CustomerStrategy("by-email", None)
    assert config.orders.location == 3
    assert config.orders.tax_item == 104
    assert config.webhooks.max_body_bytes == 1_048_576
    assert config.inventory.locations == (1, 2)
    assert config.inventory.policy == "status-only"
    tolerance = config.reconcile.tolerance
    assert (tolerance.items, tolerance.inventory_value, tolerance.open_order_value) == (
        1,
        Decimal("25.50"),
        Decimal("0.01"),
    )
    hours = config.notify.office_hours
    assert hours.days == (0, 2, 4, 5)
    assert (hours.start, hours.end) == (dt.time(8, 30), dt.time(18, 0))
    assert hours.zone == ZoneInfo("Europe/Berlin")


def test_notifier_urls_are_masked_in_repr() -> None:
    """The SMTP password and the webhook URL (often a token) do not appear in repr."""
    text = repr(parse_config(FULL))
    assert "mailpw" not in text
    assert "secret-path" not in text


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    """load_config reads UTF-8 TOML from a path."""
    path = tmp_path / "nswoo.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_config(path) == parse_config(MINIMAL)


def test_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    """A file that cannot be read is refused with its path."""
    path = tmp_path / "absent.toml"
    with pytest.raises(SettingsRefused) as info:
        load_config(path)
    assert info.value.key == str(path)


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error names the file and the line."""
    path = tmp_path / "bad.toml"
    path.write_text('[orders]\nstore = "main"\ncustomer = { strategy = \n', encoding="utf-8")
    with pytest.raises(SettingsRefused) as info:
        load_config(path)
    assert info.value.key == str(path)
    assert "line 3" in str(info.value)


def test_from_mapping_builds_the_same_config() -> None:
    """Config.from_mapping takes parsed TOML (for embedded defaults and tests)."""
    data = {"orders": {"store": "main", "customer": {"strategy": "single", "id": 42}}}
    assert Config.from_mapping(data) == parse_config(MINIMAL)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[orders]\ncustomer = { strategy = 'by-email' }", "orders.store"),
        ("[inventory]\nsafety_stock = 1", "orders.store"),
        ("[orders]\nstore = 'main'", "orders.customer.id"),
        ("[orders]\nstore = 'main'\ncustomer = { strategy = 'single' }", "orders.customer.id"),
    ],
)
def test_missing_required_keys_are_named(text: str, key: str) -> None:
    """orders.store, and orders.customer.id for the single strategy, are required."""
    assert key in refused(text).keys


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("[orders]\nstoer = 'x'", "orders.stoer"),
        ("[inventroy]\nsafety_stock = 1", "inventroy"),
        ("[reconcile]\ntolerance = { item = 1 }", "reconcile.tolerance.item"),
        ("[notify]\noffice_hours = { tz = 'UTC' }", "notify.office_hours.tz"),
        (
            "[inventory]\nowners = [{ pattern = '*', owner = 'netsuite', why = 1 }]",
            "inventory.owners[0].why",
        ),
    ],
)
def test_unknown_keys_are_refused_with_their_full_path(extra: str, key: str) -> None:
    """A misspelt key is an error naming it, never silently ignored."""
    text = MINIMAL.replace("[orders]", "[orders]") + "\n" + extra
    if extra.startswith("[orders]"):
        text = MINIMAL + extra.removeprefix("[orders]")
    assert key in refused(text).keys


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("store = 'main shop'", "orders.store"),
        ("store = 'woo|1'", "orders.store"),
        ("store = 7", "orders.store"),
        ("custom_field = 'custentity_x'", "orders.custom_field"),
        ('custom_field = "custbody_x; DROP TABLE"', "orders.custom_field"),
        ("item_match = 'itemid OR 1=1'", "orders.item_match"),
        ("statuses = ['processing', 'checkout-draft']", "orders.statuses"),
        ("statuses = 'processing'", "orders.statuses"),
        ("statuses = ['Processing!']", "orders.statuses[0]"),
        ("location = -1", "orders.location"),
        ("shipping_item = true", "orders.shipping_item"),
        ("tax_item = '5'", "orders.tax_item"),
    ],
)
def test_bad_order_values_are_refused(line: str, key: str) -> None:
    """Order settings are checked: externalId characters, SuiteQL identifiers, types."""
    text = MINIMAL.replace('store = "main"', line) if line.startswith("store") else (MINIMAL + line)
    assert key in refused(text).keys


@pytest.mark.parametrize(
    ("customer", "key"),
    [
        ("{ strategy = 'round-robin', id = 1 }", "orders.customer.strategy"),
        ("{ strategy = 'single', id = 0 }", "orders.customer.id"),
        ("{ strategy = 'single', id = '42' }", "orders.customer.id"),
        ("{ strategy = 'by-email', id = 42 }", "orders.customer.id"),
        ("'single'", "orders.customer"),
    ],
)
def test_bad_customer_strategies_are_refused(customer: str, key: str) -> None:
    """The customer strategy is `single` with a positive id, or `by-email` without one."""
    text = MINIMAL.replace('{ strategy = "single", id = 42 }', customer)
    assert key in refused(text).keys


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("[webhooks]\nmax_body_bytes = 0", "webhooks.max_body_bytes"),
        ("[inventory]\npolicy = 'replace'", "inventory.policy"),
        ("[inventory]\nlocations = [1, 'two']", "inventory.locations[1]"),
        ("[inventory]\nsafety_stock = -1", "inventory.safety_stock"),
        (
            "[inventory]\nowners = [{ pattern = '*', owner = 'shopify' }]",
            "inventory.owners[0].owner",
        ),
        ("[inventory]\nowners = [{ owner = 'netsuite' }]", "inventory.owners[0].pattern"),
        (
            "[reconcile]\ntolerance = { inventory_value = 1.5 }",
            "reconcile.tolerance.inventory_value",
        ),
        (
            "[reconcile]\ntolerance = { open_order_value = '-1' }",
            "reconcile.tolerance.open_order_value",
        ),
        (
            "[reconcile]\ntolerance = { open_order_value = 'ten' }",
            "reconcile.tolerance.open_order_value",
        ),
        ("[notify]\nwebhook_url = 'http://hooks.example/x'", "notify.webhook_url"),
        ("[notify]\nemail = { to = ['ops@example.com'] }", "notify.email.sender"),
        ("[notify]\nemail = { to = ['ops@example.com'] }", "notify.email.smtp_url"),
        ("[notify]\nemail = { to = ['not-an-address'] }", "notify.email.to[0]"),
        ("[notify]\nemail = { smtp_url = 'http://mail.example' }", "notify.email.smtp_url"),
        ("[notify]\noffice_hours = { timezone = 'Mars/Olympus' }", "notify.office_hours.timezone"),
        ("[notify]\noffice_hours = { days = 'weekdays' }", "notify.office_hours.days"),
        ("[notify]\noffice_hours = { start = '9:00' }", "notify.office_hours.start"),
        ("[notify]\noffice_hours = { end = '24:00' }", "notify.office_hours.end"),
        ("[notify]\noffice_hours = { start = '10:00', end = '10:00' }", "notify.office_hours.end"),
    ],
)
def test_bad_values_in_other_sections_are_refused(section: str, key: str) -> None:
    """Each section's values are typed and ranged; the problem names the full key path."""
    assert key in refused(MINIMAL + section).keys


def test_all_problems_are_listed_at_once() -> None:
    """Several mistakes give one refusal listing each of them."""
    error = refused(
        MINIMAL + "[inventory]\npolicy = 'x'\n[notify]\noffice_hours = { timezone = 'X/Y' }"
    )
    assert error.keys == ("inventory.policy", "notify.office_hours.timezone")
    assert "inventory.policy" in str(error)
    assert "notify.office_hours.timezone" in str(error)


def test_owner_of_uses_the_first_matching_rule() -> None:
    """Owner rules are tried in order; a SKU no rule matches has no owner."""
    inventory = InventoryConfig(
        owners=(OwnerRule("DROP-*", "woocommerce"), OwnerRule("*-NS", "netsuite"))
    )
    assert inventory.owner_of("DROP-1-NS") == "woocommerce"
    assert inventory.owner_of("ABC-NS") == "netsuite"
    assert inventory.owner_of("abc") is None


@given(sku=st.text(min_size=1, max_size=20))
def test_default_owner_rules_give_every_sku_to_netsuite(sku: str) -> None:
    """With the default `*` rule every SKU is NetSuite-owned."""
    assert InventoryConfig().owner_of(sku) == "netsuite"


def test_owner_patterns_are_case_sensitive() -> None:
    """fnmatch is applied case-sensitively on every platform."""
    assert OwnerRule("drop-*", "woocommerce").matches("DROP-1") is False


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("mon,wed,fri", (0, 2, 4)),
        ("sat-sun", (5, 6)),
        ("fri-mon", (0, 4, 5, 6)),
        ("Mon, Thu", (0, 3)),
    ],
)
def test_office_days_are_parsed(days: str, expected: tuple[int, ...]) -> None:
    """Day lists and ranges (wrapping over the weekend too) become weekday numbers."""
    text = MINIMAL + f"[notify]\noffice_hours = {{ days = '{days}' }}"
    assert parse_config(text).notify.office_hours.days == expected


def test_office_hours_contains_uses_the_configured_zone() -> None:
    """A moment is inside office hours by its local time and weekday in the zone."""
    hours = OfficeHours(timezone="Europe/Berlin")
    monday_morning_utc = dt.datetime(2024, 1, 8, 7, 30, tzinfo=dt.UTC)  # 08:30 in Berlin
    monday_utc = dt.datetime(2024, 1, 8, 8, 30, tzinfo=dt.UTC)  # 09:30 in Berlin
    saturday_utc = dt.datetime(2024, 1, 13, 10, 0, tzinfo=dt.UTC)
    assert hours.contains(monday_morning_utc) is False
    assert hours.contains(monday_utc) is True
    assert hours.contains(saturday_utc) is False
    with pytest.raises(ValueError, match="aware"):
        hours.contains(dt.datetime(2024, 1, 8, 10, 0))


def test_overnight_office_hours_belong_to_the_day_they_start() -> None:
    """A 22:00-06:00 window on Friday covers Saturday 03:00 but not Monday 03:00."""
    hours = OfficeHours(days=(4,), start=dt.time(22, 0), end=dt.time(6, 0))
    assert hours.contains(dt.datetime(2024, 1, 12, 23, 0, tzinfo=dt.UTC)) is True
    assert hours.contains(dt.datetime(2024, 1, 13, 3, 0, tzinfo=dt.UTC)) is True
    assert hours.contains(dt.datetime(2024, 1, 15, 3, 0, tzinfo=dt.UTC)) is False
