"""List pages count exactly up to the cap; beyond it PostgreSQL's estimate is shown as 约."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from kehu.customers.models import Customer


@pytest.fixture
def many(org):
    Customer.objects.bulk_create(
        Customer(name=f"分页客户{i:03d}", owner=org["sales1"], creator=org["sales1"])
        for i in range(30)
    )


def summary(client) -> str:
    body = client.get("/customers/?tab=all").content.decode()
    return re.search(r'data-testid="pagination-summary">\s*(.*?)\s*</p>', body, re.S).group(1)


def test_under_the_cap_the_count_is_exact(many, client_for, settings):
    settings.KEHU_EXACT_COUNT_CAP = 100
    assert summary(client_for("sales1")) == "显示第 1 到第 20 条记录，总共 30 条记录"


def test_at_the_cap_the_count_is_still_exact(many, client_for, settings):
    settings.KEHU_EXACT_COUNT_CAP = 30
    assert summary(client_for("sales1")) == "显示第 1 到第 20 条记录，总共 30 条记录"


def test_over_the_cap_postgresql_shows_an_estimate_never_below_the_cap(many, client_for, settings):
    settings.KEHU_EXACT_COUNT_CAP = 10
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_customer")  # statistics, as a live database has
    text = summary(client_for("sales1"))
    if connection.vendor == "postgresql":
        match = re.fullmatch(r"显示第 1 到第 20 条记录，总共约 (\d+) 条记录", text)
        assert match, text
        assert int(match.group(1)) > 10  # above the cap, and never below the rows shown
    else:  # SQLite counts exactly
        assert text == "显示第 1 到第 20 条记录，总共 30 条记录"
    # the rows themselves are the real ones either way
    body = client_for("sales1").get("/customers/?tab=all&page=2").content.decode()
    assert body.count("分页客户") == 10


def test_an_estimate_below_the_cap_is_not_believed(many, client_for, settings, monkeypatch):
    # The bounded count saw more than the cap; a planner estimate under it is plainly wrong.
    from kehu.core import pagination

    settings.KEHU_EXACT_COUNT_CAP = 10
    monkeypatch.setattr(pagination, "estimate_rows", lambda qs: 5)
    if connection.vendor == "postgresql":  # more than the cap, counted no further
        assert summary(client_for("sales1")) == "显示第 1 到第 20 条记录，总共超过 10 条记录"
        body = client_for("sales1").get("/customers/?tab=all&page=2").content.decode()
        assert body.count("分页客户") == 10  # the next page is there all the same
    else:  # SQLite counts exactly
        assert summary(client_for("sales1")) == "显示第 1 到第 20 条记录，总共 30 条记录"


def test_a_deep_page_reads_its_ids_first_and_shows_the_offsets_rows(org, client_for):
    from django.test.utils import CaptureQueriesContext

    Customer.objects.bulk_create(
        Customer(name=f"深页{i:04d}", owner=org["sales1"], creator=org["sales1"])
        for i in range(250)
    )
    client = client_for("sales1")
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/customers/?tab=mine&sort=name&page=12").content.decode()
    # Rows 221–240 by name, and the offset taken over the ids alone.
    shown = re.findall(r"深页(\d{4})", body)
    assert sorted(set(shown)) == [f"{i:04d}" for i in range(220, 240)]
    page_reads = [q["sql"] for q in queries if "OFFSET 220" in q["sql"]]
    assert page_reads and all("IN (SELECT" in sql for sql in page_reads)


def test_owned_or_shared_is_counted_as_a_union_of_its_parts(many, org, client_for, settings):
    """A salesperson sees their own customers OR those shared with them: the bounded count
    takes the two parts one by one (each an index range on PostgreSQL), same figures."""
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    from kehu.customers.services import customer_share

    theirs = Customer.objects.bulk_create(
        Customer(name=f"分享客户{i}", owner=org["sales2"], creator=org["sales2"]) for i in range(3)
    )
    for customer in theirs:
        customer_share(actor=org["sales2"], customer=customer, user_ids=[org["sales1"].pk])
    settings.KEHU_EXACT_COUNT_CAP = 100
    client = client_for("sales1")
    with CaptureQueriesContext(conn) as queries:
        assert summary(client) == "显示第 1 到第 20 条记录，总共 33 条记录"
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    if conn.vendor == "postgresql":
        assert any("UNION" in sql for sql in counts), counts
    body = client.get("/api/v1/customers?tab=all&page_size=50").json()
    assert (body["count"], body["count_exact"]) == (33, True)
    assert {c["name"] for c in body["items"]} >= {"分享客户0", "分享客户1", "分享客户2"}
    settings.KEHU_EXACT_COUNT_CAP = 31  # each part within the bound, the union beyond it
    body = client.get("/api/v1/customers?tab=all").json()
    if conn.vendor == "postgresql":
        assert body["count_exact"] is False and body["count"] >= 32
    else:
        assert (body["count"], body["count_exact"]) == (33, True)


def test_a_keyword_with_more_matches_than_the_cap_walks_the_lists_order(org, client_for, settings):
    """A keyword matching more rows than the count's cap reads its first pages by walking the
    list's order on PostgreSQL (the planner told not to sort, for that one query): the same
    rows, in the same order, as the matches sorted; the planner's settings back to normal
    right after; the customer list, the pool and their API twins alike."""
    from datetime import timedelta

    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from kehu.pool.services import release_customers

    now = timezone.now()
    rows = [
        Customer(
            name=f"{'林德叉车' if i % 3 == 0 else '物流'}走查{i:03d}",
            owner=org["sales1"],
            creator=org["sales1"],
            created_at=now - timedelta(minutes=i),
        )
        for i in range(90)
    ]
    Customer.objects.bulk_create(rows)
    release_customers(
        actor=org["sales1"],
        ids=list(Customer.objects.filter(name__contains="走查").values_list("pk", flat=True)[:60]),
    )
    settings.KEHU_EXACT_COUNT_CAP = 5
    client = client_for("sales1")

    def expected(qs, order):
        return list(
            qs.filter(name__icontains="叉车").order_by(*order).values_list("name", flat=True)
        )

    mine = Customer.objects.filter(owner=org["sales1"])
    pool = Customer.objects.filter(owner__isnull=True)
    for url, api, names, size in (
        (
            "/customers/?q=叉车",
            "/api/v1/customers?q=叉车",
            expected(mine, ["-created_at", "-id"]),
            20,
        ),
        (
            "/pool/?q=叉车",
            "/api/v1/pool/customers?q=叉车",
            expected(pool, ["-pooled_at", "-id"]),
            20,
        ),
    ):
        assert len(names) > 5  # more than the cap
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).content.decode()
        shown = re.findall(r"林德叉车走查\d{3}", body)
        assert shown == names[:size]
        walked = any("set_config('enable_sort', 'off'" in q["sql"] for q in queries)
        assert walked == (connection.vendor == "postgresql")
        page = client.get(f"{api}&page_size=3&page=2").json()
        assert [item["name"] for item in page["items"]] == names[3:6]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('enable_sort'), current_setting('enable_bitmapscan')"
                )
                assert cursor.fetchone() == ("on", "on")
    # Within the cap, nothing is walked: the matches are few, sorting them is quick.
    settings.KEHU_EXACT_COUNT_CAP = 1000
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/customers/?q=叉车").content.decode()
    assert not any("enable_sort" in q["sql"] for q in queries)
    assert re.findall(r"林德叉车走查\d{3}", body) == expected(mine, ["-created_at", "-id"])[:20]
