from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field("", max_length=100, description="令牌名称（默认取 User-Agent）")


class TokenOut(Schema):
    token: str
    id: int
    name: str
    expires_at: datetime


class TokenInfoOut(Schema):
    """One of the caller's tokens, as 我的令牌 lists it: never the token itself."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    expired: bool
    current: bool


class TokensRevokedOut(Schema):
    revoked: int


class DepartmentRef(Schema):
    id: int
    name: str


class RoleRef(Schema):
    id: int
    code: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    name: str
    department: DepartmentRef | None
    roles: list[RoleRef]
    data_scope: str
    is_admin: bool
    permissions: list[str]


class UserOut(Schema):
    id: int
    username: str
    name: str
    department_id: int | None
    department_name: str | None


class DepartmentNode(Schema):
    id: int
    name: str
    parent_id: int | None
    leader_id: int | None
    children: list[DepartmentNode]


DepartmentNode.model_rebuild()


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
