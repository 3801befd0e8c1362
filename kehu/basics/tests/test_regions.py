"""The 省/市/区县 table loaded from cpca, its helpers and the /regions API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from kehu.basics import api_regions
from kehu.basics.models import Region
from kehu.basics.regions import (
    PLACEHOLDER_NAMES,
    build_region_rows,
    load_regions,
    parse_address,
    region_centroid,
    region_children,
)
from kehu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions():
    """The table as the migration loads it (reloaded if a transactional test flushed it)."""
    if not Region.objects.exists():
        load_regions()


@pytest.fixture
def user_client(client):
    user = get_user_model().objects.create_user(username="u", password="pw123456x")
    client.force_login(user)
    return client


def _chain(adcode: str) -> list[str]:
    region = Region.objects.get(pk=adcode)
    chain = [region.adcode]
    while region.parent_id is not None:
        region = region.parent
        chain.append(region.adcode)
    return chain


# --- the data migration and the table -------------------------------------------------------


def test_migration_loaded_the_table():
    assert Region.objects.count() > 3000
    assert Region.objects.count() == len(build_region_rows())


def test_level_counts(regions):
    assert Region.objects.filter(level=Region.Level.PROVINCE).count() == 34
    assert Region.objects.filter(level=Region.Level.CITY).count() > 300
    assert Region.objects.filter(level=Region.Level.DISTRICT).count() > 2800


def test_every_non_province_has_an_existing_higher_level_parent(regions):
    assert not Region.objects.filter(level=Region.Level.PROVINCE, parent__isnull=False).exists()
    assert (
        not Region.objects.exclude(level=Region.Level.PROVINCE).filter(parent__isnull=True).exists()
    )
    parents = dict(Region.objects.values_list("adcode", "level"))
    for adcode, level, parent in Region.objects.values_list("adcode", "level", "parent_id"):
        if parent is not None:
            assert parent in parents, adcode
            assert parents[parent] < level, adcode
            assert adcode.startswith(parent[:2]), adcode


def test_every_region_has_coordinates(regions):
    assert not Region.objects.filter(longitude__isnull=True).exists()
    assert not Region.objects.filter(latitude__isnull=True).exists()


def test_placeholders_are_skipped_and_their_children_reparented(regions):
    assert not Region.objects.filter(name__in=PLACEHOLDER_NAMES).exists()
    assert not Region.objects.filter(adcode__in=["110100", "500200", "469000", "440301"]).exists()
    assert _chain("500233") == ["500233", "500000"]  # 重庆 忠县 (was under 500200 县)
    assert _chain("469002") == ["469002", "460000"]  # 琼海市, 省直辖县级
    assert Region.objects.get(pk="469002").level == Region.Level.DISTRICT
    assert _chain("441900") == ["441900", "440000"]  # 东莞: a city without districts
    assert not Region.objects.filter(parent_id="441900").exists()


def test_beijing_districts_reach_the_province(regions):
    assert Region.objects.get(pk="110000").name == "北京市"
    assert _chain("110101") == ["110101", "110000"]
    assert Region.objects.get(pk="110101").name == "东城区"
    assert region_children("110000").filter(adcode="110108", name="海淀区").exists()


def test_guangdong_shenzhen_nanshan(regions):
    assert _chain("440305") == ["440305", "440300", "440000"]
    nanshan = Region.objects.get(pk="440305")
    assert nanshan.name == "南山区"
    assert nanshan.level == Region.Level.DISTRICT
    assert Region.objects.get(pk="440300").level == Region.Level.CITY
    lng, lat = region_centroid("440305")
    assert isinstance(lng, Decimal)
    assert abs(lng - Decimal("113.93")) < Decimal("0.05")
    assert abs(lat - Decimal("22.53")) < Decimal("0.05")


def test_region_centroid_unknown_is_none(regions):
    assert region_centroid("999999") is None


def test_region_children_none_gives_only_provinces(regions):
    provinces = list(region_children(None))
    assert len(provinces) == 34
    assert {r.level for r in provinces} == {Region.Level.PROVINCE}
    assert provinces[0].adcode == "110000"
    assert [r.adcode for r in provinces] == sorted(r.adcode for r in provinces)


def test_region_children_of_a_city(regions):
    codes = set(region_children("440300").values_list("adcode", flat=True))
    assert "440305" in codes
    assert all(code.startswith("4403") for code in codes)
    assert not region_children("999999").exists()


# --- the loader ------------------------------------------------------------------------------


def test_load_regions_is_idempotent(regions):
    before = Region.objects.count()
    first = load_regions()
    second = load_regions()
    assert first == second == before == Region.objects.count()


def test_load_regions_repairs_changed_rows(regions):
    Region.objects.filter(pk="440305").update(name="改过", longitude=None, parent=None)
    load_regions()
    nanshan = Region.objects.get(pk="440305")
    assert (nanshan.name, nanshan.parent_id) == ("南山区", "440300")
    assert nanshan.longitude is not None


def test_load_regions_into_an_empty_table():
    Region.objects.all().delete()
    assert load_regions() == Region.objects.count() > 3000


def test_management_command(regions, capsys):
    call_command("load_regions")
    out = capsys.readouterr().out
    assert str(Region.objects.count()) in out
    assert "省 34" in out


# --- parse_address ---------------------------------------------------------------------------


def test_parse_address_full(regions):
    assert parse_address("广东省深圳市南山区科技园") == {
        "province": "440000",
        "city": "440300",
        "district": "440305",
        "address": "科技园",
    }


def test_parse_address_municipality_has_no_city(regions):
    assert parse_address("北京市东城区王府井大街1号") == {
        "province": "110000",
        "city": None,
        "district": "110101",
        "address": "王府井大街1号",
    }
    # cpca matches the 市辖区 placeholder too; it maps onto our table the same way.
    assert parse_address("北京市市辖区东城区王府井")["district"] == "110101"


def test_parse_address_county_level_under_a_province(regions):
    result = parse_address("海南省琼海市嘉积镇")
    assert (result["province"], result["city"], result["district"]) == ("460000", None, "469002")
    assert result["address"] == "嘉积镇"


def test_parse_address_partial_and_unknown(regions):
    assert parse_address("东莞市长安镇") == {
        "province": "440000",
        "city": "441900",
        "district": None,
        "address": "长安镇",
    }
    assert parse_address("火星基地一号") == {
        "province": None,
        "city": None,
        "district": None,
        "address": "火星基地一号",
    }
    assert parse_address("  ") == {"province": None, "city": None, "district": None, "address": ""}


# --- the router functions (work before the router is mounted) -------------------------------


def _request():
    return RequestFactory().get("/api/v1/regions")


def test_list_regions_function(regions):
    rows = api_regions.list_regions(_request(), parent="440000")
    shenzhen = next(r for r in rows if r["adcode"] == "440300")
    assert shenzhen["name"] == "深圳市"
    assert shenzhen["level"] == 2
    assert isinstance(shenzhen["longitude"], float)
    assert {r["adcode"][:2] for r in rows} == {"44"}
    assert len(api_regions.list_regions(_request(), parent=None)) == 34
    assert api_regions.list_regions(_request(), parent="999999") == []


@pytest.mark.parametrize("bad", ["44", "4400000", "44000a", "abcdef"])
def test_list_regions_function_rejects_bad_parent(regions, bad):
    with pytest.raises(ApplicationError) as exc:
        api_regions.list_regions(_request(), parent=bad)
    assert exc.value.status == 400
    assert exc.value.message == "行政区划代码格式不正确"
    assert exc.value.errors == {"parent": ["请输入6位行政区划代码"]}


def test_parse_function(regions):
    result = api_regions.parse_region_address(_request(), address="广东省深圳市南山区科技园")
    assert (result["province"], result["city"], result["district"]) == (
        "440000",
        "440300",
        "440305",
    )


# --- over HTTP (needs the router mounted in kehu/api.py at /api/v1/) ----------------------------


def test_api_regions_children(regions, user_client):
    response = user_client.get("/api/v1/regions?parent=440000")
    assert response.status_code == 200
    body = response.json()
    shenzhen = next(r for r in body if r["adcode"] == "440300")
    assert shenzhen == {
        "adcode": "440300",
        "name": "深圳市",
        "level": 2,
        "longitude": pytest.approx(114.05, abs=0.1),
        "latitude": pytest.approx(22.55, abs=0.1),
    }


def test_api_regions_provinces_and_unknown_parent(regions, user_client):
    provinces = user_client.get("/api/v1/regions").json()
    assert len(provinces) == 34
    assert {r["level"] for r in provinces} == {1}
    response = user_client.get("/api/v1/regions?parent=999999")
    assert response.status_code == 200
    assert response.json() == []


def test_api_regions_bad_parent(regions, user_client):
    response = user_client.get("/api/v1/regions?parent=44")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "行政区划代码格式不正确"
    assert body["errors"] == {"parent": ["请输入6位行政区划代码"]}


def test_api_regions_parse(regions, user_client):
    response = user_client.get("/api/v1/regions/parse", {"address": "广东省深圳市南山区科技园"})
    assert response.status_code == 200
    assert response.json() == {
        "province": "440000",
        "city": "440300",
        "district": "440305",
        "address": "科技园",
    }


def test_api_regions_requires_login(regions, client):
    assert client.get("/api/v1/regions").status_code == 401
    assert client.get("/api/v1/regions/parse", {"address": "北京市"}).status_code == 401
