"""The change log keeps no secrets and shows no pool customer's contact data (SPEC §3, §8, §12.2).

- A password (or token) hash never reaches a row, whoever writes it, and is never returned by
  /audit/ or GET /api/v1/audit even if an old row still holds one.
- The migration 0003 scrubs the rows written before, and logs that it did.
- The contact values of a pool customer's contacts (and of the customer itself) are masked in
  every log reader, with a constant number of queries per page; a private customer's are raw.
"""

from __future__ import annotations

import importlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from kehu.audit.models import Action, ChangeLog
from kehu.audit.redaction import strip_secrets
from kehu.audit.services import change_entry, record_change, record_changes, snapshot
from kehu.customers.models import Contact, Customer
from kehu.customers.services import contact_delete, contact_save, customer_create, customer_delete
from kehu.org.models import ApiToken, User
from kehu.pool.services import release_customers

HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_PASSWORD = "Kehu-Neu-Passwort-2024"
MD5_HASH = "md5$legacysalt$0123456789abcdef0123456789abcdef"


def all_rows_text() -> str:
    """Every stored row's changes and snapshot, straight from the table."""
    return json.dumps(
        list(ChangeLog._base_manager.values_list("changes", "snapshot")), ensure_ascii=False
    )


# --- secrets are never written -----------------------------------------------------------------


def test_changing_a_password_on_the_user_page_records_no_hash(client_for, api_client, org):
    sales2 = org["sales2"]
    old_hash = sales2.password
    admin = client_for("admin")
    response = admin.post(
        f"/settings/users/{sales2.pk}/edit/",
        {
            "username": "sales2",
            "name": "张业务",
            "department": sales2.department_id,
            "roles": [r.pk for r in sales2.roles.all()],
            "is_active": "on",
            "password": NEW_PASSWORD,
        },
        **HTMX,
    )
    assert response.status_code == 204
    sales2.refresh_from_db()
    assert sales2.check_password(NEW_PASSWORD) and sales2.password != old_hash
    row = ChangeLog.objects.get(object_type="org.user", object_id=sales2.pk)
    assert row.action == Action.UPDATE
    assert "password" not in row.changes and "password" not in row.snapshot
    stored = all_rows_text()
    for secret in (old_hash, sales2.password, NEW_PASSWORD):
        assert secret not in stored

    for body in (
        api_client("admin")
        .get(f"/api/v1/audit?object_type=org.user&object_id={sales2.pk}")
        .content.decode(),
        admin.get("/audit/?object_type=org.user").content.decode(),
    ):
        assert old_hash not in body and sales2.password not in body
        assert "<code>password</code>" not in body and '"password"' not in body


def test_creating_a_user_on_the_page_records_no_hash(client_for, org):
    response = client_for("admin").post(
        "/settings/users/add/",
        {
            "username": "sales9",
            "name": "新业务",
            "password": NEW_PASSWORD,
            "department": org["sales1"].department_id,
            "is_active": "on",
        },
        **HTMX,
    )
    assert response.status_code == 204
    user = User.objects.get(username="sales9")
    assert user.password not in all_rows_text()


def test_every_write_path_leaves_secrets_out(org):
    user = org["sales1"]
    token = ApiToken.objects.create(user=user, key_hash="f" * 64, prefix="abcd1234")
    assert "password" not in snapshot(user) and "key_hash" not in snapshot(token)
    before = {"password": user.password, "name": "甲", "nested": {"api_token": "t0k3n"}}
    after = {"password": MD5_HASH, "name": "乙", "note": MD5_HASH, "client_secret": "s"}
    row = record_change(
        actor=org["admin"], action=Action.UPDATE, obj=user, before=before, after=after
    )
    row = ChangeLog.objects.get(pk=row.pk)
    assert row.changes == {"name": ["甲", "乙"], "nested": [{}, None]}
    assert row.snapshot == {"name": "乙"}

    entry = change_entry(actor=None, action=Action.CREATE, obj=token, after={"key_hash": "x" * 64})
    assert entry.snapshot == {}
    hand_made = ChangeLog(
        action=Action.UPDATE,
        object_type="org.apitoken",
        object_id=token.pk,
        changes={"key_hash": ["a" * 64, "b" * 64], "prefix": ["abcd1234", "efgh5678"]},
        snapshot={"key_hash": "b" * 64, "session_key": "k"},
    )
    record_changes([entry, hand_made])
    ChangeLog.objects.bulk_create(
        [ChangeLog(action=Action.UPDATE, object_type="org.user", snapshot={"password": "x"})]
    )
    stored = all_rows_text()
    for secret in (user.password, MD5_HASH, "t0k3n", "f" * 64, "a" * 64, "b" * 64):
        assert secret not in stored
    for key in ("password", "key_hash", "api_token", "client_secret", "session_key"):
        assert f'"{key}"' not in stored
    assert '"prefix"' in stored  # not a secret: the token's visible name


def test_readers_strip_secrets_of_rows_written_before(client_for, api_client, org):
    """Defense in depth: an old row holding a hash (written before the rule) is not shown."""
    ChangeLog._base_manager.bulk_create(  # the plain manager: as the old code wrote it
        [
            ChangeLog(
                actor=org["admin"],
                actor_name="系统管理员",
                action=Action.UPDATE,
                object_type="org.user",
                object_id=org["sales1"].pk,
                object_repr="王业务",
                changes={"password": [MD5_HASH, None], "name": ["甲", "乙"]},
                snapshot={"password": MD5_HASH, "name": "乙"},
            )
        ]
    )
    assert MD5_HASH in all_rows_text()
    body = api_client("admin").get("/api/v1/audit?object_type=org.user").json()
    assert body["items"][0]["changes"] == {"name": ["甲", "乙"]}
    html = client_for("admin").get("/audit/?object_type=org.user").content.decode()
    assert "甲 → 乙" in html
    assert MD5_HASH not in html and "<code>password</code>" not in html


# --- the migration scrubs what was written before ---------------------------------------------


def migration_apps():
    """The models as the migration sees them (historical models, plain managers)."""
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(("audit", "0003_scrub_secrets")).apps


def test_the_migration_scrubs_old_rows_and_logs_itself(org):
    scrub = importlib.import_module("kehu.audit.migrations.0003_scrub_secrets").scrub
    legacy = ChangeLog._base_manager.bulk_create(
        [
            ChangeLog(
                action=Action.UPDATE,
                object_type="org.user",
                object_id=org["sales1"].pk,
                changes={"password": [MD5_HASH, None], "name": ["甲", "乙"]},
                snapshot={"name": "乙", "password": MD5_HASH},
            ),
            ChangeLog(
                action=Action.DELETE,
                object_type="org.user",
                object_id=org["sales2"].pk,
                snapshot={"username": "sales2", "password": org["sales2"].password},
            ),
            ChangeLog(
                action=Action.UPDATE,
                object_type="org.department",
                changes={"name": ["销售一部", "销售1部"]},
                snapshot={"name": "销售1部", "sort": 1},
            ),
        ]
    )
    clean = ChangeLog.objects.get(object_type="org.department")

    assert scrub(migration_apps(), None) == 2

    first, second, third = (ChangeLog.objects.get(pk=row.pk) for row in legacy)
    assert first.changes == {"name": ["甲", "乙"]} and first.snapshot == {"name": "乙"}
    assert second.snapshot == {"username": "sales2"}
    assert (third.changes, third.snapshot) == (clean.changes, clean.snapshot)
    assert MD5_HASH not in all_rows_text() and org["sales2"].password not in all_rows_text()
    note = ChangeLog.objects.get(object_type="audit.changelog")
    assert note.message == "清除日志中的密码等敏感字段：2 条"
    assert note.snapshot == {"scrubbed": 2, "object_types": {"org.user": 2}}
    assert note.actor is None

    # Run again: nothing left to scrub, nothing logged.
    assert scrub(migration_apps(), None) == 0
    assert ChangeLog.objects.filter(object_type="audit.changelog").count() == 1


def test_strip_secrets_keeps_everything_else():
    data = {"name": ["甲", "乙"], "items": [{"token": "x", "n": 1}], "amount": "1.00"}
    assert strip_secrets(data) == {"name": ["甲", "乙"], "items": [{"n": 1}], "amount": "1.00"}
    plain = {"name": "甲", "phone": "13800000000"}
    assert strip_secrets(plain, "org.user") is plain


# --- contact data of pool customers stays masked ----------------------------------------------

MOBILE_OLD, MOBILE_NEW = "18605920001", "18605920002"
LANDLINE = "0592-5557788"
EMAIL = "boss@hengtong.cn"
CUSTOMER_PHONE = "13906050001"
PRIVATE_MOBILE_OLD, PRIVATE_MOBILE = "18605929998", "18605929999"
POOL_RAW = [MOBILE_OLD, MOBILE_NEW, LANDLINE, EMAIL, CUSTOMER_PHONE]


def assert_no_raw(body: str, where: str) -> None:
    leaked = [raw for raw in POOL_RAW if raw in body]
    assert not leaked, f"{where} shows raw contact data: {leaked}"


def new_customer(actor, name: str, phone: str) -> Customer:
    data = {"name": name, "contact_name": "联系人", "contact_phone": phone}
    return customer_create(actor=actor, data=data, confirm_duplicates=True)


@pytest.fixture
def pool_contact(org):
    """A customer of sales1 whose second contact had its mobile changed, then released to the
    pool: its log holds raw mobiles, a landline and an email of a pool customer."""
    sales1 = org["sales1"]
    customer = new_customer(sales1, "厦门恒通物流有限公司", CUSTOMER_PHONE)
    contact = contact_save(
        actor=sales1,
        instance=None,
        data={
            "customer": customer,
            "name": "王总",
            "mobile": MOBILE_OLD,
            "phone": LANDLINE,
            "email": EMAIL,
        },
    )
    contact = contact_save(
        actor=sales1,
        instance=contact,
        data={"name": "王总", "mobile": MOBILE_NEW, "phone": LANDLINE, "email": EMAIL},
    )
    assert release_customers(actor=sales1, ids=[customer.pk]).done == [customer.pk]
    return contact


@pytest.fixture
def private_contact(org):
    """A contact of a private customer of sales1 whose mobile was changed once."""
    customer = new_customer(org["sales1"], "泉州宏达机械厂", "13906050002")
    contact = contact_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": customer, "name": "李经理", "mobile": PRIVATE_MOBILE_OLD},
    )
    return contact_save(
        actor=org["sales1"], instance=contact, data={"name": "李经理", "mobile": PRIVATE_MOBILE}
    )


def test_pool_customer_contact_changes_are_masked_on_the_audit_page(
    pool_contact, private_contact, client_for
):
    admin = client_for("admin")
    html = admin.get("/audit/?object_type=customers.contact").content.decode()
    assert "王总" in html and "186****0001 → 186****0002" in html
    assert_no_raw(html, "/audit/ (contacts) as admin")
    assert PRIVATE_MOBILE in admin.get("/audit/?object_type=customers.contact").content.decode()
    assert_no_raw(admin.get("/audit/").content.decode(), "/audit/ as admin")


def test_pool_customer_contact_changes_are_masked_in_the_api(
    pool_contact, private_contact, api_client
):
    response = api_client("admin").get("/api/v1/audit?object_type=customers.contact")
    assert response.status_code == 200
    items = {(row["object_id"], row["action"]): row for row in response.json()["items"]}
    update = items[(pool_contact.pk, "update")]
    assert update["changes"] == {"mobile": ["186****0001", "186****0002"]}
    assert_no_raw(response.content.decode(), "/api/v1/audit (contacts) as admin")
    assert_no_raw(
        api_client("admin").get("/api/v1/audit?page_size=100").content.decode(),
        "/api/v1/audit as admin",
    )
    # The owner of the private customer reads its own actions raw; the pool one masked.
    body = api_client("sales1").get("/api/v1/audit?page_size=100").content.decode()
    assert PRIVATE_MOBILE in body
    assert_no_raw(body, "/api/v1/audit as sales1")


def admin_rows() -> list[ChangeLog]:
    from kehu.audit.selectors import changelog_list

    return list(changelog_list(user=User.objects.get(username="admin")))


def row_of(rows, obj, action, pk=None) -> ChangeLog:
    key = (obj._meta.label_lower, pk or obj.pk, action)
    return next(r for r in rows if (r.object_type, r.object_id, r.action) == key)


def test_masking_covers_the_snapshot_too(pool_contact, private_contact):
    rows = admin_rows()
    contact_row = row_of(rows, pool_contact, Action.UPDATE)
    assert contact_row.changes == {"mobile": ["186****0001", "186****0002"]}
    assert contact_row.snapshot["mobile"] == "186****0002"
    assert contact_row.snapshot["phone"] == "0592-***7788"
    assert contact_row.snapshot["email"] == "b***@hengtong.cn"
    customer_row = row_of(rows, pool_contact.customer, Action.CREATE)
    assert customer_row.snapshot["contact_phone"] == "139****0001"
    assert_no_raw(json.dumps([[r.changes, r.snapshot] for r in rows]), "changelog_list")
    private_row = row_of(rows, private_contact, Action.UPDATE)
    assert private_row.changes == {"mobile": [PRIVATE_MOBILE_OLD, PRIVATE_MOBILE]}
    assert private_row.snapshot["mobile"] == PRIVATE_MOBILE


def test_deleted_contacts_and_customers_stay_masked(org, pool_contact, private_contact, api_client):
    """A deleted contact's log follows the customer named in its snapshot; when the customer
    is gone too, nothing tells whether it was in the pool, so the log stays masked."""
    sales1 = org["sales1"]
    spare = contact_save(
        actor=sales1,
        instance=None,
        data={"customer": private_contact.customer, "name": "赵会计", "mobile": "18605928887"},
    )
    spare = contact_save(
        actor=sales1, instance=spare, data={"name": "赵会计", "mobile": "18605928888"}
    )
    spare_pk = spare.pk
    contact_delete(actor=sales1, instance=spare)
    assert row_of(admin_rows(), spare, Action.DELETE, spare_pk).snapshot["mobile"] == "18605928888"
    body = api_client("admin").get("/api/v1/audit?object_type=customers.contact").content.decode()
    assert "18605928887" in body  # its customer is private: raw for the admin

    customer = Customer.objects.get(pk=private_contact.customer_id)
    customer_pk = customer.pk
    customer_delete(actor=sales1, customer=customer)
    assert not Contact.objects.filter(pk=private_contact.pk).exists()
    body = api_client("admin").get("/api/v1/audit?page_size=100").content.decode()
    for raw in (PRIVATE_MOBILE_OLD, PRIVATE_MOBILE, "18605928887", "18605928888"):
        assert raw not in body
    assert "186****9998" in body and "186****8887" in body
    assert_no_raw(body, "/api/v1/audit after deletions")
    rows = admin_rows()
    deleted = row_of(rows, customer, Action.DELETE, customer_pk).snapshot
    assert deleted["contact_phone"] == "139****0002"
    assert_no_raw(json.dumps(deleted), "snapshot of the deleted customer")
    assert PRIVATE_MOBILE not in json.dumps(deleted)
    assert row_of(rows, spare, Action.DELETE, spare_pk).snapshot["mobile"] == "186****8888"


def test_masking_costs_a_constant_number_of_queries(org, pool_contact, api_client):
    client = api_client("admin")
    url = "/api/v1/audit?page_size=100"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    sales1 = org["sales1"]
    for n in range(5):  # five more pool customers, each with a contact whose mobile changed
        customer = new_customer(sales1, f"客户{n}有限公司", f"1390605100{n}")
        contact = contact_save(
            actor=sales1,
            instance=None,
            data={"customer": customer, "name": f"联系人{n}", "mobile": f"1860592100{n}"},
        )
        contact_save(
            actor=sales1, instance=contact, data={"name": f"联系人{n}", "mobile": f"1860592200{n}"}
        )
        release_customers(actor=sales1, ids=[customer.pk])
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert body.count("186****") >= 10
    assert "1860592100" not in body and "1860592200" not in body
    assert len(many.captured_queries) == len(few.captured_queries)
