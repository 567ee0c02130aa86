"""The NetSuite client: REST records, SuiteQL and the metadata catalog over the HTTP pipeline.

Every request goes through one `HttpPipeline` (limiter slot → auth → send → classify →
refresh on 401 / back off on 429), and every non-2xx answer is translated by
`netsuite._faults.translate`. Request building and response parsing are pure helpers in
the sibling modules; this module only awaits.
"""

from __future__ import annotations

import random as _random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, LiteralString, Self
from urllib.parse import urlsplit

import attrs
import httpx

from .._clock import Clock, SystemClock
from .._http import HttpPipeline, RequestAuth, RetryPolicy, error_context
from .._settings import NetSuiteSettings
from .._settings._urls import url_problem
from ..errors import ConfigurationError, InvalidPayload, ResponseInvalid
from ..limits._local import Limiter, LocalLimiter
from ._auth import netsuite_auth, unauthorized_hint
from ._faults import read_json, translate
from ._metadata import RecordSchema, parse_record_schema
from ._records import (
    ExternalId,
    RecordDraft,
    RecordId,
    dumps,
    make_converter,
    record_path_id,
    validate_internal_id,
    validate_record_type,
)
from ._suiteql import (
    MAX_PAGE_SIZE,
    MAX_QUERY_ROWS,
    IdList,
    Query,
    SqlValue,
    SuiteQLPage,
    keyset_query,
    make_page_converter,
    parse_page,
)

__all__ = ["NetSuiteClient", "ProbeResult", "open_netsuite", "parse_location_id", "probe"]

_RECORD_ROOT = "/services/rest/record/v1"
_SUITEQL_PATH = "/services/rest/query/v1/suiteql"

# NetSuite is reported to answer 401 "Invalid login attempt" instead of 429 when the
# account's concurrency is exceeded (reference §1d; peers.md item 4,
# julbrs/netsuite-api-client#26): a 401 that a refresh cannot fix, coming back while the
# limiter shows the account at its limit, is backed off and retried this many times.
LOAD_401_RETRIES = 3

# Reference §7 (community facts, Unconfirmed item 5): these headers make NetSuite refuse
# unknown property names and invalid values instead of ignoring them, so a renamed custom
# field fails loudly (and is classified as schema drift) rather than being dropped silently.
_VALIDATION_HEADERS = {
    "X-NetSuite-PropertyNameValidation": "Error",
    "X-NetSuite-PropertyValueValidation": "Error",
}


def parse_location_id(response: httpx.Response) -> str:
    """The new record's internal id from a create/update response's `Location` header.

    Reference §3: POST answers 204 with `Location: https://…/record/v1/customer/647`; the
    trailing path segment is the id. Absolute and relative URLs are accepted.

    Raises:
        ResponseInvalid: the header is missing, or its last segment is not an internal id.
    """
    location = response.headers.get("location")
    if not location:
        raise ResponseInvalid(
            "the Location header with the new record's URL is missing",
            **error_context(response, "netsuite"),
        )
    try:
        path = urlsplit(location.strip()).path
    except ValueError:
        path = ""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        return validate_internal_id(last)
    except InvalidPayload:
        raise ResponseInvalid(
            "the Location header does not end in a record id",
            **error_context(response, "netsuite"),
        ) from None


@attrs.frozen
class ProbeResult:
    """What `probe` found: the account answered, and an item id if the account has items."""

    account_id: str
    sample_item_id: str | None


class NetSuiteClient:
    """Async client for one NetSuite account: records, SuiteQL and the metadata catalog.

    Dependencies are injected: the httpx client (its timeout is one attempt's timeout), the
    limiter shared by every NetSuite caller, and the `RequestAuth` (see `netsuite_auth`).
    `open_netsuite(settings)` builds all three from settings.

    Example:
        >>> async with open_netsuite(settings) as ns:  # doctest: +SKIP
        ...     order_id = await ns.create("salesOrder", draft)
        ...     order = await ns.get("salesOrder", ExternalId("woo-main-40001"))
        ...     async for row in ns.suiteql("SELECT id, itemid FROM item"):
        ...         print(row["itemid"])
    """

    def __init__(
        self,
        settings: NetSuiteSettings,
        *,
        http: httpx.AsyncClient,
        limiter: Limiter,
        auth: RequestAuth,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        random: Callable[[], float] = _random.random,
        owns_http: bool = False,
    ) -> None:
        """Build the client.

        Args:
            settings: the account (base URL, account id; `auth` picks the 401 hint).
            http: sends the requests; closed by `aclose()` only when `owns_http`.
            limiter: caps in-flight requests to this account (shared by every caller).
            auth: adds credentials to each attempt.
            clock: time for pauses and backoff (default: the system clock).
            policy: retry bounds (default: `RetryPolicy()`).
            random: jitter source in [0, 1).
            owns_http: close `http` on `aclose()`.

        Raises:
            ConfigurationError: the base URL breaks nswoo's URL rules (plain http:// off
                loopback, credentials, a query), naming `NS_<ENV>_BASE_URL`, never its value.
        """
        # The same URL rules as settings: a bearer token or a TBA signature sent over plain
        # HTTP to another machine is a credential given away.
        problem = url_problem(settings.base_url)
        if problem is not None:
            raise ConfigurationError(problem, key=f"NS_{settings.environment.upper()}_BASE_URL")
        self.settings = settings
        self._base = settings.base_url.rstrip("/")
        self._http = http
        self._owns_http = owns_http
        hint = unauthorized_hint(settings.auth)
        self._pipeline = HttpPipeline(
            system="netsuite",
            http=http,
            limiter=limiter,
            auth=auth,
            translate=lambda response, attempt: translate(
                response, unauthorized_hint=hint, attempt=attempt
            ),
            policy=policy,
            clock=clock or SystemClock(),
            random=random,
            load_401_retries=LOAD_401_RETRIES,
        )
        self._converter = make_converter()
        self._pages = make_page_converter()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the httpx client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    # -----------------------------------------------------------------------------------------
    # Records

    def _record_url(self, record_type: str, record_id: RecordId | None = None) -> str:
        url = f"{self._base}{_RECORD_ROOT}/{validate_record_type(record_type)}"
        return url if record_id is None else f"{url}/{record_path_id(record_id)}"

    def _body(self, body: Mapping[str, Any] | RecordDraft) -> bytes:
        if isinstance(body, Mapping):
            return dumps(body)
        return dumps(self._converter.unstructure(body, type(body)))

    def _write(
        self,
        method: str,
        url: str,
        body: Mapping[str, Any] | RecordDraft,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **_VALIDATION_HEADERS,
        }
        return httpx.Request(method, url, params=params, headers=headers, content=self._body(body))

    async def create(self, record_type: str, body: Mapping[str, Any] | RecordDraft) -> str:
        """Create a record; return its internal id (from the `Location` header, §3).

        A POST is not idempotent: when no answer arrives the pipeline raises
        `OutcomeUnknown` rather than retrying, and the caller must look for the record (by
        its external id or WooCommerce order id) before creating it again.

        Raises:
            InvalidPayload: refused body (`SchemaDriftError` when a custom field is at fault).
            DuplicateRecord: NetSuite reports the record already exists.
            OutcomeUnknown: no usable answer; the record may exist.
            ResponseInvalid: success without a readable `Location`.
            ApiError: `AuthenticationError`, `PermissionDenied`, `RateLimited` or
                `ServiceUnavailable`, as the pipeline raises them.
        """
        request = self._write("POST", self._record_url(record_type), body)
        response = await self._pipeline.send(request, idempotent=False)
        return parse_location_id(response)

    async def get(
        self, record_type: str, record_id: RecordId, *, expand_sub_resources: bool = False
    ) -> dict[str, Any]:
        """Read a record by internal id or `ExternalId` (addressed as `eid:<value>`, §3).

        Sublists and subrecords come back as links unless `expand_sub_resources` (§3).

        Raises:
            InvalidPayload: the id or record type is malformed (no request is sent).
            NotFound: no such record.
            ResponseInvalid: the body is not a JSON object.
        """
        params = {"expandSubResources": "true"} if expand_sub_resources else None
        request = httpx.Request(
            "GET",
            self._record_url(record_type, record_id),
            params=params,
            headers={"Accept": "application/json"},
        )
        response = await self._pipeline.send(request, idempotent=True)
        payload = read_json(response, what=f"{record_type} record")
        if not isinstance(payload, dict):
            raise ResponseInvalid(
                f"{record_type} record: response is not a JSON object",
                **error_context(response, "netsuite"),
            )
        return payload

    async def update(
        self,
        record_type: str,
        record_id: RecordId,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        idempotent: bool = False,
    ) -> None:
        """PATCH a record: omitted fields stay, `null` clears a field (§3).

        Lines sent for a non-keyed sublist are *appended* unless the sublist is named in
        `replace` (`?replace=item`), which replaces the whole sublist with the lines sent.
        Several names are joined with commas: the reference shows only a single name, so
        check multi-sublist replaces against your account.

        Args:
            idempotent: declare the PATCH safe to resend (no appended sublist lines), so the
                pipeline may retry it after a lost answer.

        Raises:
            NotFound: no such record.
            ApiError: the same errors as `create`.
        """
        for name in replace:
            validate_record_type(name)  # a sublist id obeys the same rule as a record type
        params = {"replace": ",".join(replace)} if replace else None
        request = self._write("PATCH", self._record_url(record_type, record_id), body, params)
        await self._pipeline.send(request, idempotent=idempotent)

    async def upsert(
        self,
        record_type: str,
        external_id: ExternalId,
        body: Mapping[str, Any] | RecordDraft,
    ) -> str | None:
        """Create or update the record with this external id: PUT on `eid:<value>` (§3).

        Idempotent, so the pipeline may retry it. Returns the internal id when NetSuite sends
        a `Location` header (the reference does not say whether PUT does), else None.
        """
        if not isinstance(external_id, ExternalId):
            raise TypeError("upsert() takes an ExternalId")
        request = self._write("PUT", self._record_url(record_type, external_id), body)
        response = await self._pipeline.send(request, idempotent=True)
        if "location" not in response.headers:
            return None
        return parse_location_id(response)

    # -----------------------------------------------------------------------------------------
    # Metadata

    async def record_schema(self, record_type: str) -> RecordSchema:
        """The record type's fields from the metadata catalog's JSON Schema (§7).

        The catalog is personalised per user and role, so it shows what this integration's
        role can see.
        """
        url = f"{self._base}{_RECORD_ROOT}/metadata-catalog/{validate_record_type(record_type)}"
        request = httpx.Request("GET", url, headers={"Accept": "application/schema+json"})
        response = await self._pipeline.send(request, idempotent=True)
        return parse_record_schema(record_type, read_json(response, what=f"{record_type} metadata"))

    # -----------------------------------------------------------------------------------------
    # SuiteQL

    async def suiteql_page(
        self,
        query: Query | LiteralString,
        *,
        limit: int = MAX_PAGE_SIZE,
        offset: int = 0,
        booleans: bool = True,
    ) -> SuiteQLPage:
        """Run one page of a SuiteQL query (§6: POST, `Prefer: transient`, `{"q": …}`).

        Build queries with `suiteql_query()`; a plain string is accepted for constant
        queries only (`LiteralString`). Reads are idempotent and retried.

        Raises:
            InvalidPayload: a bad query (`INVALID_PARAMETER` on `q`), or a page of the
                wrong shape.
            ResponseInvalid: the body is not JSON.
        """
        if not 0 < limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if offset < 0:
            raise ValueError("offset must not be negative")
        request = httpx.Request(
            "POST",
            f"{self._base}{_SUITEQL_PATH}",
            params={"limit": str(limit), "offset": str(offset)},
            headers={
                "Prefer": "transient",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            content=dumps({"q": str(query)}),
        )
        response = await self._pipeline.send(request, idempotent=True)
        return parse_page(
            read_json(response, what="SuiteQL page"), converter=self._pages, booleans=booleans
        )

    async def suiteql(
        self,
        query: Query | LiteralString,
        *,
        page_size: int = MAX_PAGE_SIZE,
        booleans: bool = True,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every row of a query, page by page while `hasMore` (§6).

        Rows are normalised: `links` dropped, keys lower-case, values that are exactly `'T'`
        or `'F'` turned into booleans (pass `booleans=False` when a text column may hold a
        lone T or F). Offsets advance by `page_size`. A query can return at most 100,000
        rows; past that this raises, and `suiteql_keyset` is the way through.

        Raises:
            InvalidPayload: the query has more rows than NetSuite returns per query.
        """
        offset = 0
        while True:
            page = await self.suiteql_page(query, limit=page_size, offset=offset, booleans=booleans)
            for row in page.items:
                yield row
            if not page.has_more or not page.items:
                return
            offset += page_size
            if offset >= MAX_QUERY_ROWS:
                raise InvalidPayload(
                    "the query has more than 100,000 rows, NetSuite's limit per query; "
                    "page it with suiteql_keyset()",
                    problems=("SuiteQL returns at most 100,000 rows per query",),
                    system="netsuite",
                )

    async def suiteql_keyset(
        self,
        template: LiteralString,
        *,
        key: str = "id",
        after: int | None = None,
        page_size: int = MAX_PAGE_SIZE,
        booleans: bool = True,
        **params: SqlValue | IdList,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every row of a query of any size by keyset paging on an integer column.

        `template` holds a `{keyset}` placeholder in its WHERE clause and no ORDER BY; each
        page is a fresh query `… WHERE <key> > <last key> ORDER BY <key>` (§6: at most
        100,000 rows a query, order by a unique key for stable paging), so no offset ever
        nears the cap. The key column must be selected and hold internal ids.

        Example:
            >>> async for row in ns.suiteql_keyset(  # doctest: +SKIP
            ...     "SELECT id, itemid FROM item WHERE isinactive = 'F' AND {keyset}"
            ... ): ...

        Raises:
            ResponseInvalid: a row lacks the key column or its value is not an integer.
        """
        column = key.lower()
        last = after
        while True:
            query = keyset_query(template, key=key, after=last, **params)
            page = await self.suiteql_page(query, limit=page_size, offset=0, booleans=booleans)
            for row in page.items:
                value = row.get(column)
                try:
                    last = int(validate_internal_id(value if value is not None else ""))
                except InvalidPayload:
                    raise ResponseInvalid(
                        f"keyset paging: a row has no integer {column!r} column", system="netsuite"
                    ) from None
                yield row
            if len(page.items) < page_size or not page.has_more:
                return


async def probe(client: NetSuiteClient) -> ProbeResult:
    """One SuiteQL query (`SELECT id FROM item`, limit 1) proving the account answers.

    Used by `nswoo check`. Raises what any call raises (`AuthenticationError` for wrong
    credentials or environment, `ServiceUnavailable` when unreachable).
    """
    page = await client.suiteql_page("SELECT id FROM item", limit=1)
    first = page.items[0].get("id") if page.items else None
    return ProbeResult(
        account_id=client.settings.account_id,
        sample_item_id=None if first is None else str(first),
    )


def open_netsuite(
    settings: NetSuiteSettings,
    *,
    limiter: Limiter | None = None,
    clock: Clock | None = None,
    policy: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> NetSuiteClient:
    """A ready client from settings: httpx with `settings.timeout`, a `LocalLimiter` of
    `settings.concurrency` (unless a shared limiter is given), and `netsuite_auth`.

    Use it as `async with open_netsuite(settings) as ns: …`; leaving the block closes the
    httpx client it created.
    """
    clock = clock or SystemClock()
    http = httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout), transport=transport)
    auth = netsuite_auth(settings, http=http, clock=clock)
    return NetSuiteClient(
        settings,
        http=http,
        limiter=limiter or LocalLimiter(settings.concurrency, clock=clock),
        auth=auth,
        clock=clock,
        policy=policy,
        owns_http=True,
    )
