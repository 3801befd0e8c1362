from __future__ import annotations

from ninja import Router, Schema

from . import selectors
from .api_regions import router as regions_router

router = Router(tags=["基础数据"])


class DictEntryOut(Schema):
    id: int
    name: str
    sort: int
    is_active: bool


@router.get("/dicts/{kind}", response=list[DictEntryOut])
def dict_entries(request, kind: str, include_inactive: bool = False):
    """Entries of one dictionary (`levels`, `sources`, `industries`, `tags`, `followup-types`,
    `payment-methods`, `stores`, `vehicle-brands`), enabled ones unless asked otherwise."""
    return list(selectors.dict_entries(kind=kind, active_only=not include_inactive))


router.add_router("", regions_router)
