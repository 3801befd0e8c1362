from ninja import Schema
from pydantic import Field


class ToPoolIn(Schema):
    ids: list[int] = Field(min_length=1)
    reason: str | None = Field(None, max_length=200)


class TransferIn(Schema):
    ids: list[int] = Field(min_length=1)
    user_ids: list[int]
    allocation: str = Field("even", description="even | random")


class ClaimIn(Schema):
    ids: list[int] = Field(min_length=1)
