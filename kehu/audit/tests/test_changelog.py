"""The change log (SPEC §8): who, when, what object, which action, fields before → after;
append-only; readable on /audit/ by admins and through GET /api/v1/audit."""

from __future__ import annotations

import datetime
import decimal
import re

import pytest
from django.test import Client

from kehu.audit.models import Action, ChangeLog
from kehu.audit.services import diff, record_change, snapshot
from kehu.core import registry
from kehu.org.models import Department
from kehu.org.services import department_save

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sales_dept(org) -> Department:
    return Department.objects.get(name="销售一部")


# --- record_change ----------------------------------------------------------------------------


def test_record_change_writes_actor_action_object_and_diff(org, sales_dept):
    admin = org["admin"]
    before = snapshot(sales_dept)
    sales_dept.name = "销售1部"
    sales_dept.sort = 7
    after = snapshot(sales_dept)
    row = record_change(
        actor=admin, action=Action.UPDATE, obj=sales_dept, before=before, after=after
    )

    row = ChangeLog.objects.get(pk=row.pk)
    assert row.actor == admin
    assert row.actor_name == "系统管理员"
    assert row.action == Action.UPDATE
    assert row.object_type == "org.department"
    assert row.object_id == sales_dept.pk
    assert row.object_repr == "销售1部"
    assert row.changes == {"name": ["销售一部", "销售1部"], "sort": [1, 7]}
    assert row.snapshot == after
    assert row.created_at is not None


def test_creation_has_a_snapshot_but_no_diff(org):
    dept = Department.objects.create(name="市场部")
    row = record_change(actor=org["admin"], action=Action.CREATE, obj=dept, after=snapshot(dept))
    assert row.changes == {}
    assert row.snapshot["name"] == "市场部"
    assert row.snapshot["parent"] is None


def test_deletion_keeps_the_last_state(org, sales_dept):
    before = snapshot(sales_dept)
    row = record_change(actor=org["admin"], action=Action.DELETE, obj=sales_dept, before=before)
    assert row.snapshot == before
    assert row.changes == {}


def test_record_change_without_an_actor(db):
    row = record_change(
        actor=None,
        action=Action.LOGIN_FAILED,
        object_type="org.user",
        object_repr="ghost",
        message="登录失败：ghost",
    )
    assert row.actor is None
    assert row.actor_name == ""
    assert row.object_id is None
    assert row.message == "登录失败：ghost"


def test_long_texts_are_cut_to_fit(db):
    row = record_change(
        actor=None,
        action=Action.IMPORT,
        object_type="x",
        object_repr="名" * 300,
        message="长" * 900,
    )
    row = ChangeLog.objects.get(pk=row.pk)
    assert len(row.object_repr) == 200
    assert len(row.message) == 500


def test_snapshot_stores_foreign_keys_as_ids_and_values_as_json(org, sales_dept):
    data = snapshot(sales_dept)
    assert data["parent"] == sales_dept.parent_id
    assert data["leader"] is None
    assert isinstance(data["created_at"], str)
    assert set(snapshot(sales_dept, ["name"])) == {"name"}


def test_diff_lists_only_changed_fields_and_ignores_bookkeeping():
    before = {"name": "甲", "amount": "1.00", "version": 1, "updated_at": "t1", "same": 3}
    after = {"name": "乙", "amount": "1.00", "version": 2, "updated_at": "t2", "same": 3, "new": 5}
    assert diff(before, after) == {"name": ["甲", "乙"], "new": [None, 5]}


def test_money_and_dates_are_recorded_exactly():
    from kehu.audit.services import _jsonable

    assert _jsonable(decimal.Decimal("1234.50")) == "1234.50"
    assert _jsonable(datetime.date(2024, 2, 29)) == "2024-02-29"


def test_service_writes_the_log_in_its_transaction(org):
    dept = department_save(actor=org["manager1"], instance=None, data={"name": "销售三部"})
    row = ChangeLog.objects.get(object_type="org.department", object_id=dept.pk)
    assert (row.action, row.actor) == (Action.CREATE, org["manager1"])


def test_web_request_records_request_id_and_address(client_for):
    response = client_for("admin").post(
        "/settings/departments/add/", {"name": "市场部", "sort": 9}, **HTMX
    )
    assert response.status_code == 204
    row = ChangeLog.objects.get(object_type="org.department", object_repr="市场部")
    assert re.fullmatch(r"[0-9a-f]{32}", row.request_id)
    assert row.remote_addr == "127.0.0.1"


# --- append-only ------------------------------------------------------------------------------


def test_rows_cannot_be_updated_or_deleted(org, sales_dept):
    row = record_change(actor=org["admin"], action=Action.UPDATE, obj=sales_dept)
    row.message = "篡改"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        ChangeLog.objects.filter(pk=row.pk).update(message="篡改")
    with pytest.raises(TypeError):
        ChangeLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(TypeError):
        ChangeLog.objects.all().delete()
    stored = ChangeLog.objects.get(pk=row.pk)
    assert stored.message == ""


def test_deleting_the_actor_keeps_the_log_and_the_name(org, sales_dept):
    from kehu.org.models import User

    temp = User.objects.create_user(username="temp", password="Kehu-secret-2024", name="临时工")
    row = record_change(actor=temp, action=Action.UPDATE, obj=sales_dept)
    temp.delete()
    stored = ChangeLog.objects.get(pk=row.pk)
    assert stored.actor is None
    assert stored.actor_name == "临时工"


# --- the /audit/ page -------------------------------------------------------------------------


def test_audit_page_lists_entries_for_admin(client_for, org, sales_dept):
    department_save(actor=org["admin"], instance=sales_dept, data={"name": "销售1部"})
    response = client_for("admin").get("/audit/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "变更日志" in content
    assert "销售1部" in content
    assert "销售一部 → 销售1部" in content
    assert "显示第 1 到第 1 条记录，总共 1 条记录" in content


def test_audit_page_filters_by_object(client_for, org, sales_dept):
    department_save(actor=org["admin"], instance=sales_dept, data={"sort": 9})
    record_change(actor=None, action=Action.LOGIN_FAILED, object_type="org.user", object_repr="x")
    client = client_for("admin")
    content = client.get("/audit/?object_type=org.department").content.decode()
    assert "总共 1 条记录" in content
    content = client.get("/audit/?action=login_failed").content.decode()
    assert "总共 1 条记录" in content


def test_audit_page_is_refused_to_salespeople(client_for):
    assert client_for("sales1").get("/audit/").status_code == 403


def test_audit_page_sends_anonymous_to_login(org):
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- GET /api/v1/audit ------------------------------------------------------------------------


@pytest.fixture
def department_history(org, sales_dept):
    """Two rows about 销售一部 (admin's rename, sales1's note) and unrelated rows."""
    department_save(actor=org["admin"], instance=sales_dept, data={"name": "销售1部"})
    record_change(actor=org["sales1"], action=Action.UPDATE, obj=sales_dept, message="备注")
    other = Department.objects.get(name="售后部")
    record_change(actor=org["sales1"], action=Action.UPDATE, obj=other)
    record_change(actor=org["admin"], action=Action.UPDATE, obj=other)
    record_change(actor=None, action=Action.LOGIN_FAILED, object_type="org.user", object_repr="x")
    return sales_dept


def audit_url(dept: Department) -> str:
    return f"/api/v1/audit?object_type=org.department&object_id={dept.pk}"


def test_admin_reads_the_whole_history_of_an_object(api_client, org, department_history):
    response = api_client("admin").get(audit_url(department_history))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["items"]
    assert newest["actor_id"] == org["sales1"].pk and newest["message"] == "备注"
    assert oldest["actor_id"] == org["admin"].pk
    assert oldest["actor_name"] == "系统管理员"
    assert oldest["action"] == "update"
    assert oldest["object_type"] == "org.department"
    assert oldest["object_id"] == department_history.pk
    assert oldest["object_repr"] == "销售1部"
    assert oldest["changes"] == {"name": ["销售一部", "销售1部"]}
    assert "snapshot" not in oldest


def test_salesperson_reads_only_own_actions(api_client, org, department_history):
    body = api_client("sales1").get(audit_url(department_history)).json()
    assert body["count"] == 1
    assert [row["actor_id"] for row in body["items"]] == [org["sales1"].pk]

    everything = api_client("sales1").get("/api/v1/audit").json()
    assert everything["count"] == 2
    assert {row["actor_id"] for row in everything["items"]} == {org["sales1"].pk}


def test_admin_reads_everything_without_filters(api_client, department_history):
    assert api_client("admin").get("/api/v1/audit").json()["count"] == 5


def test_audit_api_paginates(api_client, department_history):
    body = api_client("admin").get("/api/v1/audit?page=2&page_size=2").json()
    assert body["count"] == 5
    assert len(body["items"]) == 2
    response = api_client("admin").get("/api/v1/audit?page_size=0")
    assert response.status_code == 400


def test_audit_api_needs_credentials(org):
    response = Client().get("/api/v1/audit")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_object_visibility_decides_for_registered_types(api_client, org, monkeypatch):
    """A type that registers its visibility: readers of a visible object see its whole log,
    a hidden object's log is a 404 (never reveal that it exists)."""
    visible = Department.objects.get(name="销售一部")
    hidden = Department.objects.get(name="财务部")
    monkeypatch.setitem(
        registry.log_visibility,
        "org.department",
        lambda user: Department.objects.filter(name__startswith="销售"),
    )
    record_change(actor=org["admin"], action=Action.UPDATE, obj=visible)
    record_change(actor=org["admin"], action=Action.UPDATE, obj=hidden)

    body = api_client("sales1").get(audit_url(visible)).json()
    assert body["count"] == 1
    assert body["items"][0]["actor_id"] == org["admin"].pk

    response = api_client("sales1").get(audit_url(hidden))
    assert response.status_code == 404
    assert response.json()["detail"]
    response = api_client("sales1").get("/api/v1/audit?object_type=org.department&object_id=999999")
    assert response.status_code == 404
