"""API lists: the count follows the pages' rule (exact to the cap, then an estimate flagged
``count_exact: false``), ``cursor`` walks a whole list once even while rows are added, and deep
pages (ids first) hold the same rows as the plain offset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.pool.rules import default_pool


@pytest.fixture
def customers(org):
    """45 customers of sales1, a minute apart; every third has a receivable and a follow-up."""
    now = timezone.now()
    made = Customer.objects.bulk_create(
        Customer(
            name=f"游标客户{i:03d}",
            contact_name="联系人",
            contact_phone=f"1380000{i:04d}",
            owner=org["sales1"],
            creator=org["sales1"],
            receivable_parts=100 * (i % 3),
            next_followup_at=now + timedelta(days=i % 4) if i % 3 == 0 else None,
        )
        for i in range(45)
    )
    for i, c in enumerate(made):  # auto_now_add: give them distinct, known creation times
        Customer.objects.filter(pk=c.pk).update(created_at=now - timedelta(minutes=i))
    return [c.pk for c in made]


def walk(client, url, page_size=10, between=None):
    """Every id of a list, page by page through ``next_cursor``."""
    seen, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in url else "?"
        answer = client.get(
            f"{url}{sep}page_size={page_size}" + (f"&cursor={cursor}" if cursor else "")
        )
        assert answer.status_code == 200, answer.content
        body = answer.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if between:
            between(pages)
        if cursor is None:
            return seen
        assert pages < 100


def test_under_the_cap_the_count_is_exact(customers, api_client, settings):
    settings.KEHU_EXACT_COUNT_CAP = 100
    body = api_client("sales1").get("/api/v1/customers?tab=mine").json()
    assert (body["count"], body["count_exact"]) == (45, True)
    assert len(body["items"]) == 20 and body["next_cursor"]


def test_over_the_cap_the_count_is_an_estimate_on_postgresql(customers, api_client, settings):
    settings.KEHU_EXACT_COUNT_CAP = 10
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_customer")
    body = api_client("sales1").get("/api/v1/customers?tab=mine").json()
    if connection.vendor == "postgresql":
        assert body["count_exact"] is False
        assert body["count"] > 10  # beyond the cap, whatever the planner guessed
    else:  # SQLite, the small embedded deployment, counts exactly
        assert (body["count"], body["count_exact"]) == (45, True)
    assert len(body["items"]) == 20  # the rows are real either way


def test_a_wrong_estimate_is_bounded_not_trusted(customers, api_client, settings, monkeypatch):
    from kehu.core import pagination

    settings.KEHU_EXACT_COUNT_CAP = 10
    monkeypatch.setattr(pagination, "estimate_rows", lambda qs: 1)
    body = api_client("sales1").get("/api/v1/customers?tab=mine").json()
    if connection.vendor == "postgresql":  # more than the cap: cap + 1, flagged as not exact
        assert (body["count"], body["count_exact"]) == (11, False)
    else:  # SQLite counts exactly
        assert (body["count"], body["count_exact"]) == (45, True)


@pytest.mark.parametrize(
    "ordering",
    ["", "-receivable_total", "receivable_total", "name", "next_followup_at", "-next_followup_at"],
)
def test_the_cursor_walks_every_row_once_in_order(customers, api_client, ordering):
    client = api_client("sales1")
    url = "/api/v1/customers?tab=mine" + (f"&ordering={ordering}" if ordering else "")
    expected = [item["id"] for item in client.get(url + "&page_size=200").json()["items"]]
    assert sorted(expected) == sorted(customers)
    assert walk(client, url, page_size=7) == expected


def test_rows_added_while_walking_neither_repeat_nor_hide_others(customers, api_client, org):
    client = api_client("sales1")

    def add_newest(page):
        Customer.objects.create(
            name=f"新增客户{page}",
            contact_name="新",
            contact_phone=f"1390000{page:04d}",
            owner=org["sales1"],
            creator=org["sales1"],
        )

    seen = walk(client, "/api/v1/customers?tab=mine", page_size=10, between=add_newest)
    assert len(seen) == len(set(seen))
    assert set(customers) <= set(seen)  # page=N would have shown some twice and skipped none


def test_the_pool_and_documents_walk_too(org, api_client):
    pool = default_pool()
    Customer.objects.bulk_create(
        Customer(
            name=f"公海游标{i}",
            contact_name="甲",
            contact_phone=f"1370000{i:04d}",
            owner=None,
            pool=pool,
            pooled_at=timezone.now() - timedelta(hours=i % 5),
            creator=org["sales1"],
        )
        for i in range(23)
    )
    client = api_client("sales1")
    expected = [c["id"] for c in client.get("/api/v1/pool/customers?page_size=200").json()["items"]]
    assert len(expected) == 23
    assert walk(client, "/api/v1/pool/customers", page_size=5) == expected
    assert client.get("/api/v1/contracts?page_size=5").json()["next_cursor"] is None  # no contracts


@pytest.mark.parametrize(
    "cursor", ["xyz", "e30", "!!!", "eyJvIjoiLWNyZWF0ZWRfYXQsLWlkIiwidiI6WzEsMl19"]
)
def test_a_bad_cursor_is_a_clear_400_and_nothing_else(customers, api_client, cursor):
    answer = api_client("sales1").get(f"/api/v1/customers?tab=mine&cursor={cursor}")
    assert answer.status_code == 400
    assert "游标无效" in answer.json()["detail"]


def test_a_cursor_of_another_ordering_is_refused(customers, api_client):
    client = api_client("sales1")
    cursor = client.get("/api/v1/customers?tab=mine&page_size=5").json()["next_cursor"]
    answer = client.get(f"/api/v1/customers?tab=mine&ordering=name&cursor={cursor}")
    assert answer.status_code == 400 and "游标无效" in answer.json()["detail"]


def test_deep_pages_read_ids_first_and_hold_the_offsets_rows(org, api_client):
    Customer.objects.bulk_create(
        Customer(
            name=f"深页客户{i:04d}",
            contact_name="乙",
            contact_phone=f"1360000{i:04d}",
            owner=org["sales1"],
            creator=org["sales1"],
        )
        for i in range(260)
    )
    client = api_client("sales1")
    everything = [
        c["id"]
        for c in client.get("/api/v1/customers?tab=mine&ordering=name&page_size=200").json()[
            "items"
        ]
    ]
    everything += [
        c["id"]
        for c in client.get("/api/v1/customers?tab=mine&ordering=name&page_size=200&page=2").json()[
            "items"
        ]
    ]
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/v1/customers?tab=mine&ordering=name&page_size=20&page=12").json()
    assert [c["id"] for c in page["items"]] == everything[220:240]
    listing = [q["sql"] for q in queries if "深页" not in q["sql"] and "OFFSET 220" in q["sql"]]
    assert listing, "the page is read by its offset"
    # The offset is taken over the ids alone, inside the query that reads the page's rows.
    assert all("IN (SELECT" in sql for sql in listing)
