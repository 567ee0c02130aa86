"""The NetSuite edge: auth, the REST record and SuiteQL client, wire models, errors."""

from __future__ import annotations

from . import suiteql as suiteql
from ._auth import M2MTokenSource as M2MTokenSource
from ._auth import RefreshTokenSource as RefreshTokenSource
from ._auth import TbaAuth as TbaAuth
from ._auth import netsuite_auth as netsuite_auth
from ._auth import unauthorized_hint as unauthorized_hint
from ._client import NetSuiteClient as NetSuiteClient
from ._client import ProbeResult as ProbeResult
from ._client import open_netsuite as open_netsuite
from ._client import parse_location_id as parse_location_id
from ._client import probe as probe
from ._faults import classify_field_error as classify_field_error
from ._faults import translate as translate
from ._metadata import FieldDef as FieldDef
from ._metadata import RecordSchema as RecordSchema
from ._metadata import parse_record_schema as parse_record_schema
from ._records import Address as Address
from ._records import CustomerDraft as CustomerDraft
from ._records import ExternalId as ExternalId
from ._records import RecordDraft as RecordDraft
from ._records import RecordId as RecordId
from ._records import SalesOrderDraft as SalesOrderDraft
from ._records import SalesOrderLine as SalesOrderLine
from ._records import dumps as dumps
from ._records import to_body as to_body

__all__ = [
    "Address",
    "CustomerDraft",
    "ExternalId",
    "FieldDef",
    "M2MTokenSource",
    "NetSuiteClient",
    "ProbeResult",
    "RecordDraft",
    "RecordId",
    "RecordSchema",
    "RefreshTokenSource",
    "SalesOrderDraft",
    "SalesOrderLine",
    "TbaAuth",
    "classify_field_error",
    "dumps",
    "netsuite_auth",
    "open_netsuite",
    "parse_location_id",
    "parse_record_schema",
    "probe",
    "suiteql",
    "to_body",
    "translate",
    "unauthorized_hint",
]
