"""The national division table (GB/T 2260 省/市/区县) loaded from the ``cpca`` package.

The data is read at run time from the installed package (``cpca/resources/adcodes.csv``:
``adcode,name,longitude,latitude`` with 12-digit codes whose last 6 digits are always zero);
nothing is copied into this repository.

How a cpca row becomes a :class:`~kehu.basics.models.Region` (6-digit ``adcode``):

* ``XX0000`` is a province (省级, parent ``None``); ``XXYY00`` is a city (地级, parent ``XX0000``);
  anything else is a district/county (县级): its parent is ``XXYY00`` when that city is kept,
  otherwise the province ``XX0000``.
* Placeholder rows are skipped (see :data:`PLACEHOLDER_NAMES`): ``市辖区`` / ``县`` are statistical
  groupings, not places. At city level they only exist under the four 直辖市 (``110100 市辖区``,
  ``500200 县`` ...), and ``省直辖县级行政区划`` (``469000``, ``429000`` ...) groups the
  county-level divisions a province administers directly; at district level ``XXYY01 市辖区``
  means "the urban districts of this city" and has neither coordinates nor children. Keeping them
  would put a meaningless "市辖区 / 县 / 省直辖县级行政区划" step in every cascading picker, so the
  children are re-parented to the province instead: ``北京市 → 东城区``, ``重庆市 → 忠县``,
  ``海南省 → 琼海市`` (such a district keeps level 3 but has a province as parent, i.e. it has no
  city). :func:`parse_address` applies the same rule, so its ``city`` is ``None`` there.
* Coordinates: rows without a centroid get an approximate one so that every region can be put on a
  map. A district (and any row whose children have none) takes its nearest ancestor's centroid; a
  province or city takes its first child's centroid (by adcode, usually the seat). In cpca 0.5.5
  this only concerns six districts: the retired codes 130421 邯郸县, 330204 江东区, 410211 金明区,
  320812 清江浦区, and 139001 定州市 / 139002 辛集市 (which fall back to 河北省's centroid).
"""

from __future__ import annotations

import csv
import importlib.resources
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet

PROVINCE, CITY, DISTRICT = 1, 2, 3  # == Region.Level; plain ints so historical models can use them

PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

_SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class RegionRow:
    adcode: str
    name: str
    level: int
    parent: str | None
    longitude: Decimal | None
    latitude: Decimal | None


def level_of(adcode: str) -> int:
    if adcode.endswith("0000"):
        return PROVINCE
    if adcode.endswith("00"):
        return CITY
    return DISTRICT


def _decimal(value: str | None) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return Decimal(value).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def read_cpca_adcodes() -> list[dict[str, str]]:
    """The raw rows of cpca's ``adcodes.csv``, read from the installed package."""
    resource = importlib.resources.files("cpca.resources") / "adcodes.csv"
    text = resource.read_text(encoding="utf-8-sig")
    return [
        {k.strip(): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text, newline=""))
    ]


def build_region_rows(raw: list[dict[str, str]] | None = None) -> list[RegionRow]:
    """Turn cpca's rows into ``RegionRow``s, parents before children (level, then adcode).

    Raises ``ValueError`` rather than silently dropping a row whose parent cannot be found.
    """
    if raw is None:
        raw = read_cpca_adcodes()
    source: dict[str, dict[str, Any]] = {}
    for rec in raw:
        full = rec["adcode"]
        if len(full) != 12 or not full.isdigit() or not full.endswith("000000"):
            raise ValueError(f"unexpected cpca adcode {full!r}")
        code = full[:6]
        if code in source:
            raise ValueError(f"duplicate cpca adcode {code}")
        source[code] = {
            "name": rec["name"],
            "lng": _decimal(rec.get("longitude")),
            "lat": _decimal(rec.get("latitude")),
        }

    kept = {
        code: rec
        for code, rec in source.items()
        if level_of(code) == PROVINCE or rec["name"] not in PLACEHOLDER_NAMES
    }

    parents: dict[str, str | None] = {}
    for code in kept:
        level = level_of(code)
        province = code[:2] + "0000"
        city = code[:4] + "00"
        if level == PROVINCE:
            parent = None
        elif level == CITY:
            parent = province
        else:
            parent = city if city in kept else province
        if parent is not None and parent not in kept:
            raise ValueError(f"region {code} {kept[code]['name']}: parent {parent} not found")
        parents[code] = parent

    children: dict[str, list[str]] = {}
    for code in sorted(kept):
        if (parent := parents[code]) is not None:
            children.setdefault(parent, []).append(code)

    def own(code: str) -> tuple[Decimal, Decimal] | None:
        rec = kept[code]
        return (
            (rec["lng"], rec["lat"]) if rec["lng"] is not None and rec["lat"] is not None else None
        )

    def from_ancestor(code: str) -> tuple[Decimal, Decimal] | None:
        parent = parents[code]
        while parent is not None:
            if (found := own(parent)) is not None:
                return found
            parent = parents[parent]
        return None

    def from_child(code: str) -> tuple[Decimal, Decimal] | None:
        for child in children.get(code, []):
            if (found := own(child) or from_child(child)) is not None:
                return found
        return None

    rows = []
    for code in sorted(kept, key=lambda c: (level_of(c), c)):
        point = own(code)
        if point is None:
            if level_of(code) == DISTRICT:
                point = from_ancestor(code)
            else:
                point = from_child(code) or from_ancestor(code)
        rows.append(
            RegionRow(
                adcode=code,
                name=kept[code]["name"],
                level=level_of(code),
                parent=parents[code],
                longitude=point[0] if point else None,
                latitude=point[1] if point else None,
            )
        )
    return rows


def _region_model():
    from .models import Region

    return Region


def load_regions(region_model=None, *, using: str = DEFAULT_DB_ALIAS) -> int:
    """Upsert every region from cpca into ``region_model`` (default ``Region``); returns the count.

    Idempotent: one ``INSERT ... ON CONFLICT (adcode) DO UPDATE`` pass in a transaction. Rows that
    are no longer produced (none today) are left alone rather than deleted, so nothing that refers
    to a region can be cascaded away by a reload. The data migration passes its historical model.
    """
    model = region_model or _region_model()
    objs = [
        model(
            adcode=row.adcode,
            name=row.name,
            level=row.level,
            parent_id=row.parent,
            longitude=row.longitude,
            latitude=row.latitude,
        )
        for row in build_region_rows()
    ]
    with transaction.atomic(using=using):
        model._default_manager.db_manager(using).bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["adcode"],
            update_fields=["name", "level", "parent", "longitude", "latitude"],
        )
    return len(objs)


def region_children(parent_adcode: str | None) -> QuerySet:
    """The regions directly under ``parent_adcode`` (provinces when ``None``), by adcode."""
    qs = _region_model().objects.order_by("adcode")
    if parent_adcode is None:
        return qs.filter(level=PROVINCE, parent__isnull=True)
    return qs.filter(parent_id=parent_adcode)


def region_centroid(adcode: str) -> tuple[Decimal, Decimal] | None:
    """``(longitude, latitude)`` of a region, or ``None`` if it is unknown or has no centroid."""
    row = _region_model().objects.filter(pk=adcode).values_list("longitude", "latitude").first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return row[0], row[1]


def _clean(value: Any) -> str | None:
    """cpca's dataframe cells: ``None``/NaN become ``None``."""
    return value if isinstance(value, str) else None


def parse_address(text: str) -> dict[str, str | None]:
    """Split a free-form Chinese address into our province/city/district adcodes + the rest.

    Uses ``cpca.transform`` (which builds a pandas DataFrame; pandas is installed). cpca's adcode
    is mapped onto our table: a skipped placeholder (e.g. ``110100 市辖区``) climbs to its kept
    ancestor, and the three levels are then read from our own parent chain, so the codes returned
    always exist and are consistent with :func:`region_children` (``city`` is ``None`` for
    直辖市 districts and 省直辖县级 divisions). ``address`` is the text after the last matched
    division, or the whole (stripped) text when nothing matched.
    """
    return parse_addresses([text])[0]


def parse_addresses(
    texts: list[str], *, regions: Mapping[str, Any] | None = None
) -> list[dict[str, str | None]]:
    """:func:`parse_address` of many addresses at once: one ``cpca.transform`` and one query for
    the regions (an import parses a batch of 1,000 rows this way in about 15 ms) — none when
    the caller holds the divisions by code (``regions``: the import validates in a thread)."""
    results: list[dict[str, str | None]] = [
        {"province": None, "city": None, "district": None, "address": ""} for _ in texts
    ]
    wanted = [(i, (t or "").strip()) for i, t in enumerate(texts) if (t or "").strip()]
    if not wanted:
        return results
    import cpca  # imported lazily: it builds its matcher at import time

    records = cpca.transform([t for _i, t in wanted]).to_dict("records")
    codes: dict[int, str] = {}
    for (index, text), record in zip(wanted, records, strict=True):
        adcode = _clean(record.get("adcode"))
        rest = _clean(record.get("地址"))
        results[index]["address"] = (rest if adcode else text) or ""
        if adcode:
            codes[index] = adcode
    if not codes:
        return results
    candidates = {c for a in codes.values() for c in (a, a[:4] + "00", a[:2] + "0000")}
    if regions is None:
        found = {
            r.adcode: r
            for r in _region_model()
            .objects.select_related("parent__parent")
            .filter(adcode__in=candidates)
        }

        def parent_of(region):
            return region.parent

    else:
        found = {c: regions[c] for c in candidates if c in regions}

        def parent_of(region):
            return regions.get(region.parent_id) if region.parent_id else None

    keys = {PROVINCE: "province", CITY: "city", DISTRICT: "district"}
    for index, adcode in codes.items():
        chain = [adcode, adcode[:4] + "00", adcode[:2] + "0000"]
        region = next((found[c] for c in chain if c in found), None)
        while region is not None:
            results[index][keys[region.level]] = region.adcode
            region = parent_of(region)
    return results
