"""The NetSuite client gives the same results on the simulator and on the reference's bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.contract._netsuite_backends import NsBackend

from nswoo.errors import (
    AuthenticationError,
    DuplicateRecord,
    InvalidPayload,
    NotFound,
    SchemaDriftError,
)
from nswoo.netsuite import ExternalId, SalesOrderDraft, SalesOrderLine

pytestmark = pytest.mark.anyio


def draft(ns: NsBackend, external_id: str, *items: int, **custom: str) -> SalesOrderDraft:
    """A one-line-per-item sales order for the arranged customer."""
    return SalesOrderDraft(
        entity=ns.arrange.customer(),
        lines=[SalesOrderLine(item=i, quantity=Decimal(2), rate=Decimal("12.50")) for i in items],
        external_id=ExternalId(external_id),
        custom_fields=custom,
    )


async def test_create_returns_the_id_from_location(ns: NsBackend) -> None:
    """A created sales order's id comes from the 204 Location and reads back under it."""
    item = ns.arrange.item("MUG-BLUE")
    new_id = await ns.client.create("salesOrder", draft(ns, "sim-40001", item))
    record = await ns.client.get("salesOrder", int(new_id))
    assert new_id.isdigit()
    assert (record["id"], record["externalId"]) == (new_id, "sim-40001")


async def test_get_by_external_id(ns: NsBackend) -> None:
    """GET on eid:<value> finds the record created with that externalId."""
    item = ns.arrange.item("MUG-BLUE")
    new_id = await ns.client.create(
        "salesOrder", draft(ns, "sim-40002", item, custbody_nswoo_woo_order_id="40002")
    )
    record = await ns.client.get("salesOrder", ExternalId("sim-40002"))
    assert record["id"] == new_id
    assert record["custbody_nswoo_woo_order_id"] == "40002"


async def test_put_upsert_creates_then_updates_the_same_record(ns: NsBackend) -> None:
    """PUT on eid: creates the record once, then updates that same record."""
    item = ns.arrange.item("MUG-BLUE")
    body = draft(ns, "sim-40003", item)
    first = await ns.client.upsert("salesOrder", ExternalId("sim-40003"), body)
    again = await ns.client.upsert("salesOrder", ExternalId("sim-40003"), {"memo": "second write"})
    record = await ns.client.get("salesOrder", ExternalId("sim-40003"))
    assert first is not None
    assert again == first
    assert (record["id"], record["memo"]) == (first, "second write")


async def test_duplicate_external_id_is_duplicate_record(ns: NsBackend) -> None:
    """A second POST with the same externalId raises DuplicateRecord."""
    item = ns.arrange.item("MUG-BLUE")
    await ns.client.create("salesOrder", draft(ns, "sim-40004", item))
    with pytest.raises(DuplicateRecord) as info:
        await ns.client.create("salesOrder", draft(ns, "sim-40004", item))
    assert (info.value.status, info.value.code) == (400, "USER_ERROR")


async def test_invalid_item_is_invalid_payload_with_the_error_path(ns: NsBackend) -> None:
    """An unknown item id is InvalidPayload naming §4's o:errorPath item.items[0].item."""
    with pytest.raises(InvalidPayload) as info:
        await ns.client.create("salesOrder", draft(ns, "sim-40005", 9999))
    error = info.value
    assert not isinstance(error, SchemaDriftError)
    assert (error.status, error.code, error.field) == (400, "INVALID_CONTENT", "item.items[0].item")
    assert "Invalid Field Value 9999 for the following field: item" in error.detail


async def test_missing_mandatory_custom_field_is_schema_drift(ns: NsBackend) -> None:
    """A custom field that became mandatory surfaces as SchemaDriftError naming it."""
    item = ns.arrange.item("MUG-BLUE")
    ns.arrange.mandatory_field("custbody_sales_channel", "Sales Channel")
    with pytest.raises(SchemaDriftError) as info:
        await ns.client.create("salesOrder", draft(ns, "sim-40006", item))
    assert (info.value.field, info.value.record) == ("Sales Channel", "salesOrder")
    assert info.value.code == "USER_ERROR"


async def test_expired_token_is_refreshed_once(ns: NsBackend) -> None:
    """A token that died behind the client's back costs one refresh, then the call succeeds."""
    item = ns.arrange.item("MUG-BLUE")
    new_id = await ns.client.create("salesOrder", draft(ns, "sim-40007", item))
    ns.arrange.expire_tokens()
    ns.clock.advance(60)  # the next call starts after the token was minted
    record = await ns.client.get("salesOrder", int(new_id))
    assert record["id"] == new_id
    assert ns.arrange.tokens_minted() == 2
    assert ns.arrange.api_statuses() == [204, 401, 200]


async def test_fresh_token_refused_is_authentication_error(ns: NsBackend) -> None:
    """A 401 INVALID_LOGIN on a token minted for this call is final: AuthenticationError."""
    ns.arrange.refuse_tokens()
    with pytest.raises(AuthenticationError) as info:
        await ns.client.get("salesOrder", 1)
    assert (info.value.status, info.value.code) == (401, "INVALID_LOGIN")
    assert ns.arrange.tokens_minted() == 1
    assert ns.arrange.api_statuses() == [401]


async def test_suiteql_pages_over_has_more(ns: NsBackend) -> None:
    """SuiteQL rows come from every page, keys lower-case and 'T'/'F' turned into bools."""
    ids = [
        ns.arrange.item("CT-1"),
        ns.arrange.item("CT-2", inactive=True),
        ns.arrange.item("CT-3"),
        ns.arrange.item("CT-4"),
        ns.arrange.item("CT-5", inactive=True),
    ]
    rows = [
        row
        async for row in ns.client.suiteql(
            "SELECT id, itemid, isinactive FROM item ORDER BY id", page_size=2
        )
    ]
    # The reference is silent on whether SuiteQL numbers are JSON strings; compare as text.
    assert [(str(r["id"]), r["itemid"], r["isinactive"]) for r in rows] == [
        (str(ids[0]), "CT-1", False),
        (str(ids[1]), "CT-2", True),
        (str(ids[2]), "CT-3", False),
        (str(ids[3]), "CT-4", False),
        (str(ids[4]), "CT-5", True),
    ]
    assert all(set(row) == {"id", "itemid", "isinactive"} for row in rows)
    assert ns.arrange.api_statuses() == [200, 200, 200]


async def test_429_is_retried_through_the_limiter(ns: NsBackend) -> None:
    """The §5 429 pauses the shared limiter once; the retry succeeds."""
    ns.arrange.item("CT-1")
    ns.arrange.rate_limit_next()
    rows = [row async for row in ns.client.suiteql("SELECT id, itemid, isinactive FROM item")]
    assert [r["itemid"] for r in rows] == ["CT-1"]
    assert ns.arrange.api_statuses() == [429, 200]
    assert ns.limiter.stats().rate_limited == 1


async def test_unknown_record_is_not_found(ns: NsBackend) -> None:
    """A GET of an id or external id that does not exist raises NotFound."""
    with pytest.raises(NotFound):
        await ns.client.get("salesOrder", 424242)
    with pytest.raises(NotFound) as info:
        await ns.client.get("salesOrder", ExternalId("sim-missing"))
    assert info.value.status == 404
