"""查重 quota (SPEC §13 "masking against enumeration", issue 9): one per-user quota for the API,
the 查重 dialog and the duplicate warning of a save; every call logged; bursts reported to admins;
the answer never carries more than SPEC §10.1's fields."""

import json
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.customers import throttle
from kehu.customers.models import Customer, DuplicateCheckLog, DuplicateCheckSource
from kehu.customers.services import customer_create, customer_update
from kehu.pool.services import release_customers

API = "/api/v1/customers/duplicate-check"
PAGE = "/customers/duplicate-check/"
POOL_PHONE = "17212349100"
PUBLIC_FIELDS = {"name", "owner_name", "in_pool", "status", "created_at"}
MESSAGE_5 = "查重过于频繁，请稍后再试（每分钟最多5次，每天最多300次）"


@pytest.fixture(autouse=True)
def _fresh_state():
    """No counter leaks from one test into the next."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def low_limits(settings):
    settings.KEHU_DUPLICATE_CHECK_LIMITS = {"minute": 5, "day": 300}


@pytest.fixture
def frozen(monkeypatch):
    """``frozen.now``: the clock every caller of ``django.utils.timezone.now`` reads."""

    class Clock:
        now = timezone.now().replace(microsecond=0)

        def advance(self, **delta):
            self.now += timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def pool_customer(org, make_customer):
    customer = make_customer("sales2", name="厦门恒通物流有限公司", contact_phone=POOL_PHONE)
    release_customers(actor=org["sales2"], ids=[customer.pk], reason="联系不上")
    return Customer.objects.get(pk=customer.pk)


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def reports(user=None):
    qs = ChangeLog.objects.filter(object_type=throttle.REPORT_OBJECT_TYPE)
    return qs.filter(actor=user) if user is not None else qs


def test_sixth_api_call_is_refused_with_429_logged_and_reported(
    org, pool_customer, client_for, low_limits
):
    client = client_for("sales1")
    for _ in range(5):
        response = post_json(client, API, {"phone": POOL_PHONE})
        assert response.status_code == 200
        assert response.json()["matches"][0]["name"] == "厦门恒通物流有限公司"
    response = post_json(client, API, {"phone": POOL_PHONE})
    assert response.status_code == 429
    body = response.json()
    assert body["detail"] == MESSAGE_5
    assert body["code"] == "duplicate_check_throttled" and "matches" not in body
    assert POOL_PHONE not in response.content.decode()

    rows = DuplicateCheckLog.objects.filter(user=org["sales1"])
    assert rows.count() == 6
    assert rows.filter(refused=False).count() == 5
    refused = rows.get(refused=True)
    assert (refused.source, refused.refused_by, refused.matches) == ("api", "minute", 0)
    # Phones are logged masked, never raw.
    assert set(rows.values_list("phone_query", flat=True)) == {"172****9100"}
    assert set(rows.filter(refused=False).values_list("matches", flat=True)) == {1}

    (report,) = reports()
    assert report.actor == org["sales1"]
    assert report.message == "查重过于频繁：sales1 一分钟内 6 次"
    assert POOL_PHONE not in json.dumps(report.snapshot) + report.message

    # Another user has a quota of their own.
    response = post_json(client_for("sales2"), API, {"name": "恒通物流"})
    assert response.status_code == 200 and len(response.json()["matches"]) == 1


def test_admins_are_not_exempt(org, client_for, low_limits):
    client = client_for("admin")
    statuses = [post_json(client, API, {"name": f"公司{i}"}).status_code for i in range(7)]
    assert statuses == [200] * 5 + [429, 429]
    assert reports(org["admin"]).count() == 1  # the first refusal of the window only


def test_page_and_save_warning_share_the_quota(org, pool_customer, client_for, low_limits):
    client = client_for("sales1")
    similar = {"name": "厦门恒通物流股份有限公司", "contact_name": "张三"}
    # 1-2: the API
    for _ in range(2):
        assert post_json(client, API, {"name": "恒通物流"}).status_code == 200
    # 3: the 查重 dialog
    response = client.get(PAGE, {"phone": POOL_PHONE}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "厦门恒通物流有限公司" in response.content.decode()
    # 4: the warning of the web form (the save stops; the check, made before it, counts)
    response = client.post(
        "/customers/add/", {**similar, "contact_phone": "13900001111"}, HTTP_HX_REQUEST="true"
    )
    assert "发现疑似重复的客户" in response.content.decode()
    # 5: the warning of the API's create
    response = post_json(client, "/api/v1/customers", {**similar, "contact_phone": "13900001112"})
    assert response.status_code == 400 and response.json()["code"] == "possible_duplicates"
    assert Customer.objects.count() == 1

    # 6: the dialog is refused, with the message in the form
    response = client.get(PAGE, {"phone": POOL_PHONE}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 429 and MESSAGE_5 in html
    assert 'data-testid="dedupe-results"' not in html
    # 7: a save needing the check is refused: same message, nothing saved
    response = client.post(
        "/customers/add/", {**similar, "contact_phone": "13900001113"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 429 and MESSAGE_5 in response.content.decode()
    assert "厦门恒通物流有限公司" not in response.content.decode()
    # 8: the same through the API's create
    response = post_json(client, "/api/v1/customers", {**similar, "contact_phone": "13900001114"})
    assert response.status_code == 429 and response.json()["detail"] == MESSAGE_5
    assert Customer.objects.count() == 1
    # A save that needs no check (confirmed) is not a 查重 and goes through.
    response = client.post(
        "/customers/add/",
        {**similar, "contact_phone": "13900001115", "confirm_duplicates": "True"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and Customer.objects.count() == 2

    # Every check is logged, also those whose save they stopped.
    rows = DuplicateCheckLog.objects.filter(user=org["sales1"]).order_by("created_at", "id")
    assert [(r.source, r.refused) for r in rows] == [
        ("api", False),
        ("api", False),
        ("page", False),
        ("form", False),
        ("form", False),
        ("page", True),
        ("form", True),
        ("form", True),
    ]
    assert [r.matches for r in rows if r.source == "form" and not r.refused] == [1, 1]
    assert reports(org["sales1"]).count() == 1


def test_update_warning_counts_before_the_save_transaction(org, make_customer, low_limits):
    make_customer("sales2", name="泉州宏达机械厂")
    mine = make_customer("sales1", name="我的客户有限公司")
    for i in range(5):
        with pytest.raises(Exception) as refused:
            customer_update(
                actor=org["sales1"],
                customer=mine,
                data={"name": f"泉州宏达机械{i}厂"},
                version=mine.version,
                partial=True,
            )
        assert refused.value.code == "possible_duplicates"
    # The warning stopped each update before its transaction: the checks stay counted.
    assert DuplicateCheckLog.objects.filter(user=org["sales1"], source="form").count() == 5
    with pytest.raises(throttle.DuplicateCheckThrottled) as refused:
        customer_update(
            actor=org["sales1"],
            customer=mine,
            data={"name": "泉州宏达机械厂"},
            version=mine.version,
            partial=True,
        )
    assert refused.value.status == 429 and refused.value.message == MESSAGE_5
    mine.refresh_from_db()
    assert mine.name == "我的客户有限公司"
    assert DuplicateCheckLog.objects.filter(user=org["sales1"], refused=True).count() == 1
    (report,) = reports(org["sales1"])
    assert report.object_id == DuplicateCheckLog.objects.get(refused=True).pk


def test_a_save_logs_its_check_once(org, low_limits):
    customer = customer_create(
        actor=org["sales1"],
        data={"name": "独一无二公司", "contact_name": "甲", "contact_phone": "13900002222"},
    )
    assert customer.pk
    (row,) = DuplicateCheckLog.objects.all()
    assert (row.source, row.refused, row.matches, row.phone_query) == (
        "form",
        False,
        0,
        "139****2222",
    )


def test_admins_see_the_burst_report(org, client_for, low_limits):
    sales = client_for("sales1")
    for i in range(6):
        post_json(sales, API, {"name": f"公司{i}"})
    admin = client_for("admin")
    html = admin.get("/").content.decode()
    assert "查重告警（近7天）" in html
    card = html[html.index("查重告警") - 400 : html.index("查重告警")]
    assert ">1<" in card
    html = admin.get("/audit/", {"object_type": throttle.REPORT_OBJECT_TYPE}).content.decode()
    assert "查重过于频繁：sales1 一分钟内 6 次" in html
    # The card is for admins only.
    assert "查重告警" not in client_for("sales2").get("/").content.decode()


def test_answers_carry_only_the_spec_fields(org, pool_customer, client_for):
    client = client_for("sales1")
    response = post_json(client, API, {"name": "恒通物流", "phone": POOL_PHONE})
    (match,) = response.json()["matches"]
    assert set(match) == PUBLIC_FIELDS
    assert match["in_pool"] is True and match["owner_name"] is None
    assert POOL_PHONE not in response.content.decode()
    response = post_json(
        client,
        "/api/v1/customers",
        {"name": "恒通物流", "contact_name": "张三", "contact_phone": POOL_PHONE},
    )
    assert response.json()["code"] == "possible_duplicates"
    assert [set(m) for m in response.json()["matches"]] == [PUBLIC_FIELDS]


def test_ten_thousand_checks_by_one_user_get_thirty_answers(org, pool_customer, settings, frozen):
    """The enumeration of issue 9: 10,000 candidate phones within one minute."""
    del settings.KEHU_DUPLICATE_CHECK_LIMITS  # the defaults: 30 a minute, 300 a day
    assert throttle.limits() == {"minute": 30, "day": 300}
    user = org["sales1"]
    answered = refused = found = 0

    def check(i):
        nonlocal answered, refused, found
        try:
            matches = throttle.duplicate_check(
                actor=user, source=DuplicateCheckSource.API, phone=f"172{i:04d}9100"
            )
        except throttle.DuplicateCheckThrottled as exc:
            assert exc.status == 429
            refused += 1
        else:
            answered += 1
            found += len(matches)

    for i in range(9_900):
        check(i)
    # A refusal costs one INSERT (its log row), however many came before: the flood stays cheap.
    with CaptureQueriesContext(connection) as queries:
        for i in range(9_900, 10_000):
            check(i)
    assert len(queries) == 100
    assert (answered, refused) == (30, 9_970)
    assert found == 0  # only 17200009100 … 17200299100 were answered, not 17212349100
    assert DuplicateCheckLog.objects.filter(user=user).count() == 10_000
    assert DuplicateCheckLog.objects.filter(user=user, refused=False).count() == 30
    assert reports(user).count() == 1

    # The next minute gives 30 more; the real phone among them is answered, its name only.
    frozen.advance(seconds=61)
    (match,) = throttle.duplicate_check(actor=user, source="api", phone=POOL_PHONE)
    assert match.as_public_dict()["name"] == "厦门恒通物流有限公司"


def test_day_window(org, settings, frozen):
    settings.KEHU_DUPLICATE_CHECK_LIMITS = {"minute": 30, "day": 300}
    frozen.now = timezone.localtime(frozen.now).replace(hour=9, minute=0, second=0)
    user = org["sales1"]

    def burst(n):
        ok = 0
        for _ in range(n):
            try:
                throttle.duplicate_check(actor=user, source="page", name="恒通物流")
            except throttle.DuplicateCheckThrottled:
                continue
            ok += 1
        return ok

    answered = []
    for _ in range(10):
        frozen.advance(minutes=1)
        answered.append(burst(31))
    assert answered == [30] * 10
    frozen.advance(minutes=1)
    assert burst(5) == 0  # 300 today: refused though the minute is fresh
    messages = list(reports(user).order_by("id").values_list("message", flat=True))
    assert len(messages) == 11 and messages[-1] == "查重过于频繁：sales1 今天 301 次"
    frozen.advance(days=1)
    assert burst(1) == 1


def test_a_window_set_to_zero_is_off(org, settings):
    settings.KEHU_DUPLICATE_CHECK_LIMITS = {"minute": 0, "day": 3}
    assert throttle.limit_message() == "查重过于频繁，请稍后再试（每天最多3次）"
    for _ in range(3):
        throttle.duplicate_check(actor=org["sales1"], source="api", name="甲")
    with pytest.raises(throttle.DuplicateCheckThrottled):
        throttle.duplicate_check(actor=org["sales1"], source="api", name="甲")
