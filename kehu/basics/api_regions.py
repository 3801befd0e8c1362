"""``/regions``: the 省/市/区县 cascade for pickers and the free-text address parser.

No ``auth`` here on purpose: the NinjaAPI's default auth (session or Bearer token) applies.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ninja import Router, Schema

from kehu.core.errors import ApplicationError

from .regions import parse_address, region_children

router = Router(tags=["regions"])

_ADCODE_RE = re.compile(r"^\d{6}$")


class RegionOut(Schema):
    adcode: str
    name: str
    level: int
    longitude: float | None = None
    latitude: float | None = None


class ParsedAddressOut(Schema):
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str = ""


def _coord(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 6)


@router.get("/regions", response=list[RegionOut], summary="行政区划下级列表")
def list_regions(request, parent: str | None = None):
    """The regions directly under ``parent`` (an adcode); the provinces without it.

    An unknown but well-formed adcode gives an empty list; ``parent=`` (empty) means no parent.
    """
    parent = (parent or "").strip() or None
    if parent is not None and not _ADCODE_RE.match(parent):
        raise ApplicationError(
            "行政区划代码格式不正确", errors={"parent": ["请输入6位行政区划代码"]}
        )
    rows = region_children(parent).values_list("adcode", "name", "level", "longitude", "latitude")
    return [
        {
            "adcode": adcode,
            "name": name,
            "level": level,
            "longitude": _coord(lng),
            "latitude": _coord(lat),
        }
        for adcode, name, level, lng, lat in rows
    ]


@router.get("/regions/parse", response=ParsedAddressOut, summary="解析地址中的省市区")
def parse_region_address(request, address: str):
    """Split a free-form address into province/city/district adcodes and the remaining text."""
    return parse_address(address)
