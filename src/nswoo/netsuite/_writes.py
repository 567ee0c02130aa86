"""NetSuite writes whose answer may be lost: create once, then read back by external id.

A `POST` that creates a record is not idempotent, so the pipeline never retries it after a
transport failure (`OutcomeUnknown`: NetSuite may or may not have committed it). Every record
nswoo creates carries an external id derived from its source (reference §3: unique per record
type, addressable as `eid:<value>`), which makes the recovery safe for any record type:

- the answer was lost (`OutcomeUnknown`): read `eid:<value>`; found means our own write
  committed; not found means it did not, so it is sent once more;
- NetSuite refuses a duplicate external id (`DuplicateRecord`): someone else (another worker,
  an earlier run) created it; read `eid:<value>` and use theirs.

Sales orders, customers, and later fulfillments and credit memos all go through
`create_once`.
"""

from __future__ import annotations

import attrs

from ..errors import DuplicateRecord, NotFound, OutcomeUnknown
from ._client import NetSuiteClient
from ._records import ExternalId, RecordDraft

__all__ = ["Created", "create_once", "read_id"]


@attrs.frozen
class Created:
    """The record `create_once` ended with.

    Attributes:
        record_id: its internal id.
        created: True when this call's write made it (answered, or found after a lost
            answer); False when another writer had made it (a duplicate external id).
    """

    record_id: str
    created: bool


async def read_id(client: NetSuiteClient, record_type: str, external_id: ExternalId) -> str | None:
    """The internal id of the `record_type` with this external id, or None (one GET).

    Raises:
        ApiError: anything but "not found" (unreachable, refused, ...).
    """
    try:
        body = await client.get(record_type, external_id)
    except NotFound:
        return None
    return str(body["id"]) if "id" in body else None


async def create_once(
    client: NetSuiteClient, record_type: str, draft: RecordDraft, *, external_id: ExternalId
) -> Created:
    """Create `draft` as a `record_type`, never twice, even when an answer is lost.

    At most two POSTs: the second only after a lost answer and a read that shows the first
    did not commit (a first write still committing then fails the second as a duplicate,
    which is read and used). `external_id` must be the one `draft` carries.

    Raises:
        OutcomeUnknown: both answers were lost and the record could not be found: whether it
            exists is unknown (a later call finds it, or creates it).
        DuplicateRecord: NetSuite refused a duplicate but nothing carries the external id
            (the duplicate is of another field: nothing to link).
        ApiError: any other refusal, as the client raises it.
    """
    for attempt in (1, 2):
        try:
            return Created(await client.create(record_type, draft), created=True)
        except DuplicateRecord:
            found = await read_id(client, record_type, external_id)
            if found is not None:
                return Created(found, created=False)
            raise
        except OutcomeUnknown:
            found = await read_id(client, record_type, external_id)
            if found is not None:
                return Created(found, created=True)  # our own write committed
            if attempt == 2:
                raise
            # Not there: the write did not happen (or is still committing, in which case
            # the external id makes the second create fail as a duplicate, read above).
    raise AssertionError("unreachable")  # pragma: no cover
