from ninja import Schema
from pydantic import Field

from kehu.core.api import Id


class ToPoolIn(Schema):
    ids: list[Id] = Field(min_length=1)
    reason: str | None = Field(None, max_length=200)


class TransferIn(Schema):
    ids: list[Id] = Field(min_length=1)
    user_ids: list[Id]
    allocation: str = Field("even", description="even | random")


class ClaimIn(Schema):
    ids: list[Id] = Field(min_length=1)
