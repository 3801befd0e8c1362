from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from kehu.core.api import BatchIds, Id


class Ref(Schema):
    id: int
    name: str


class CustomerBase(Schema):
    legal_person: str | None = None
    credit_code: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None
    industry: int | None = Field(None, description="行业类型 dictionary entry id")
    products: str | None = None
    raw_materials: str | None = None
    province: str | None = Field(None, description="adcode")
    city: str | None = None
    district: str | None = None
    address: str | None = None
    longitude: Decimal | None = None
    latitude: Decimal | None = None
    level: int | None = None
    source: int | None = None
    referrer: int | None = Field(None, description="user id")
    tags: list[int] | None = None
    next_followup_at: datetime | None = None
    remark: str | None = None
    confirm_duplicates: bool = Field(False, description="save although similar customers exist")


class CustomerIn(CustomerBase):
    name: str
    contact_name: str
    contact_phone: str


class CustomerPatch(CustomerBase):
    name: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    version: int = Field(description="the version read; a stale one gets 409")


class CustomerOut(Schema):
    id: int
    name: str
    legal_person: str
    credit_code: str
    bank_name: str
    bank_account: str
    industry: Ref | None
    products: str
    raw_materials: str
    province: str | None
    city: str | None
    district: str | None
    address: str
    longitude: Decimal | None
    latitude: Decimal | None
    contact_name: str
    contact_phone: str
    level: Ref | None
    source: Ref | None
    referrer: Ref | None
    tags: list[Ref]
    next_followup_at: datetime | None
    last_followup_at: datetime | None
    remark: str
    owner: Ref | None
    creator: Ref | None
    in_pool: bool
    status: str
    receivable_vehicle: str
    receivable_parts: str
    receivable_used_vehicle: str
    receivable_lease: str
    receivable_repair: str
    receivable_maintenance: str
    receivable_total: str
    created_at: datetime
    updated_at: datetime
    version: int


class IdsIn(Schema):
    ids: BatchIds


class BatchOut(Schema):
    done: list[int]
    refused: list[dict]


class DuplicateCheckIn(Schema):
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=30)
    credit_code: str | None = Field(None, max_length=40)  # as typed: spaces, 全角


class DuplicateMatchOut(Schema):
    name: str
    owner_name: str | None
    in_pool: bool
    status: str
    created_at: datetime


class DuplicateCheckOut(Schema):
    matches: list[DuplicateMatchOut]


class ShareIn(Schema):
    user_ids: list[Id]


class ShareOut(Schema):
    user_ids: list[int]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
