from ninja import Schema
from pydantic import Field

from kehu.core.api import BatchIds, Id


class ToPoolIn(Schema):
    ids: BatchIds
    reason: str | None = Field(None, max_length=200)


class TransferIn(Schema):
    ids: BatchIds
    user_ids: list[Id]
    allocation: str = Field("even", description="even | random")


class ClaimIn(Schema):
    ids: BatchIds
