"""The settings pages (员工, 部门, 角色, 字典) through the generic list/edit/delete views."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.audit.models import Action, ChangeLog
from kehu.basics.models import DictEntry
from kehu.org.models import Department, Role, User

HTMX = {"HTTP_HX_REQUEST": "true"}


class _Cells(HTMLParser):
    """The text of each header and body cell of the page's table, row by row."""

    def __init__(self):
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.in_body = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif tag == "td" and self.in_body or tag == "th":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            if tag == "th":
                self.headers.append(text)
            else:
                self.rows[-1].append(text)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(response) -> list[list[str]]:
    parser = _Cells()
    parser.feed(response.content.decode())
    return parser.rows


def column(response, label: str) -> list[str]:
    """The cells under the header ``label`` (the lists put 操作 first, columns can move)."""
    parser = _Cells()
    parser.feed(response.content.decode())
    index = parser.headers.index(label)
    return [row[index] for row in parser.rows]


def summary(shown: int, total: int) -> str:
    return f"显示第 1 到第 {shown} 条记录，总共 {total} 条记录"


@pytest.fixture
def admin(client_for) -> Client:
    return client_for("admin")


def dept(name: str) -> Department:
    return Department.objects.get(name=name)


# --- lists, permissions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "title", "count"),
    [
        ("/settings/users/", "员工", lambda: User.objects.count()),
        ("/settings/departments/", "部门", lambda: Department.objects.count()),
        ("/settings/roles/", "角色", lambda: Role.objects.count()),
        ("/settings/dictionaries/", "字典", lambda: DictEntry.objects.count()),
    ],
)
def test_settings_lists_render_with_the_pagination_summary(admin, url, title, count):
    response = admin.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert title in content
    total = count()
    assert total > 0
    assert summary(min(total, 20), total) in content
    assert len(table_rows(response)) == min(total, 20)


def test_users_list_shows_the_demo_staff(admin):
    response = admin.get("/settings/users/")
    rows = dict(zip(column(response, "用户名"), table_rows(response), strict=True))
    assert set(rows) == {"admin", "manager1", "sales1", "sales2", "sales3", "service1", "finance1"}
    assert "李业务" in rows["sales1"]
    assert "销售一部" in rows["sales1"]
    assert "业务员" in rows["sales1"]


def test_settings_index_renders_for_admin(admin):
    response = admin.get("/settings/")
    assert response.status_code == 200
    for label in ("员工", "部门", "角色", "字典", "变更日志"):
        assert label in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/settings/",
        "/settings/users/",
        "/settings/users/add/",
        "/settings/departments/",
        "/settings/departments/add/",
        "/settings/roles/",
        "/settings/dictionaries/",
    ],
)
def test_salesperson_is_refused_the_settings(client_for, url):
    assert client_for("sales1").get(url).status_code == 403


def test_salesperson_cannot_create_a_department(client_for):
    before = Department.objects.count()
    response = client_for("sales1").post("/settings/departments/add/", {"name": "黑客部"}, **HTMX)
    assert response.status_code == 403
    assert Department.objects.count() == before


@pytest.mark.parametrize("url", ["/settings/", "/settings/users/", "/settings/departments/"])
def test_anonymous_is_sent_to_login(org, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_the_sidebar_hides_settings_from_a_salesperson(client_for):
    assert "/settings/users/" in client_for("admin").get("/").content.decode()
    assert "/settings/users/" not in client_for("sales1").get("/").content.decode()


# --- sorting, searching, paging ---------------------------------------------------------------


def test_sorting_by_name_changes_the_order(admin):
    ascending = column(admin.get("/settings/departments/?sort=name"), "部门名称")
    descending = column(admin.get("/settings/departments/?sort=-name"), "部门名称")
    assert sorted(ascending) == sorted(descending) and len(ascending) == 6
    assert descending == list(reversed(ascending))
    assert ascending != descending


def test_search_panel_filters_departments(admin):
    response = admin.get("/settings/departments/?q=销售")
    assert set(column(response, "部门名称")) == {"销售部", "销售一部", "销售二部"}
    assert summary(3, 3) in response.content.decode()


def test_search_without_match_shows_the_empty_text(admin):
    response = admin.get("/settings/departments/?q=不存在的部门")
    assert response.status_code == 200
    assert "暂无数据" in response.content.decode()
    assert "总共 0 条记录" in response.content.decode()


def test_users_search_and_department_filter(admin, org):
    assert set(column(admin.get("/settings/users/?q=业务"), "用户名")) == {
        "sales1",
        "sales2",
        "sales3",
    }
    department = org["sales1"].department_id
    assert set(column(admin.get(f"/settings/users/?department={department}"), "用户名")) == {
        "sales1",
        "sales2",
    }


def test_dictionary_list_filters_by_kind(admin):
    response = admin.get("/settings/dictionaries/?kind=levels")
    assert column(response, "名称") == ["A重点客户", "B普通客户", "C一般客户"]


def test_second_page_and_page_size(admin):
    total = DictEntry.objects.count()
    response = admin.get("/settings/dictionaries/?page=2")
    assert f"显示第 21 到第 40 条记录，总共 {total} 条记录" in response.content.decode()
    response = admin.get("/settings/dictionaries/?per_page=50")
    assert summary(min(total, 50), total) in response.content.decode()


def test_htmx_list_request_returns_only_the_table(admin):
    response = admin.get(
        "/settings/departments/?q=销售", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="object-list"
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert summary(3, 3) in content


def test_list_page_query_count_does_not_grow_with_rows(admin, org):
    role = Role.objects.get(code="salesperson")
    department = org["sales1"].department

    def render() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin.get("/settings/users/")
        assert response.status_code == 200
        return len(queries)

    render()  # warm the caches a first request fills
    with_seven = render()
    for i in range(33):
        user = User.objects.create_user(
            username=f"extra{i}",
            password="Kehu-secret-2024",
            name=f"员工{i}",
            department=department,
        )
        user.roles.add(role)
    assert User.objects.count() == 40
    with_forty = render()
    assert with_forty == with_seven
    response = admin.get("/settings/users/?per_page=50")
    assert summary(40, 40) in response.content.decode()


def test_departments_and_roles_lists_are_constant_queries(admin, org):
    def render(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(url).status_code == 200
        return len(queries)

    render("/settings/departments/")
    before = (render("/settings/departments/"), render("/settings/roles/"))
    parent = dept("销售部")
    for i in range(12):
        Department.objects.create(name=f"新部门{i}", parent=parent, leader=org["sales1"])
        Role.objects.create(name=f"角色{i}", code=f"role{i}")
    assert (render("/settings/departments/"), render("/settings/roles/")) == before


# --- creating and editing ---------------------------------------------------------------------


def test_create_department_through_the_modal(admin, org):
    parent = dept("销售部")
    response = admin.post(
        "/settings/departments/add/",
        {"name": "销售三部", "parent": parent.pk, "leader": org["sales3"].pk, "sort": 3},
        **HTMX,
    )
    assert response.status_code == 204
    assert "objectSaved" in json.loads(response["HX-Trigger"])
    created = Department.objects.get(name="销售三部")
    assert created.parent == parent
    assert created.leader == org["sales3"]
    log = ChangeLog.objects.get(object_type="org.department", object_id=created.pk)
    assert log.action == Action.CREATE
    assert log.actor == org["admin"]
    assert log.snapshot["name"] == "销售三部"


def test_create_department_without_htmx_redirects_to_the_list(admin):
    response = admin.post("/settings/departments/add/", {"name": "市场部", "sort": 5})
    assert response.status_code == 302
    assert response["Location"] == "/settings/departments/"
    assert Department.objects.filter(name="市场部", parent=None).exists()


def test_the_add_form_opens_as_a_modal(admin):
    response = admin.get("/settings/departments/add/", **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "添加部门" in content
    assert "<html" not in content


def test_department_name_is_required(admin):
    before = Department.objects.count()
    response = admin.post("/settings/departments/add/", {"name": "", "sort": 1}, **HTMX)
    assert response.status_code == 400
    assert "这个字段是必填项" in response.content.decode()
    assert Department.objects.count() == before


def test_duplicate_department_name_under_the_same_parent_is_refused(admin):
    parent = dept("销售部")
    response = admin.post(
        "/settings/departments/add/", {"name": "销售一部", "parent": parent.pk, "sort": 1}, **HTMX
    )
    assert response.status_code == 400
    assert "部门 已经存在" in response.content.decode()
    assert Department.objects.filter(name="销售一部").count() == 1


def test_department_cannot_be_moved_under_its_own_child(admin):
    sales, first = dept("销售部"), dept("销售一部")
    logs = ChangeLog.objects.count()
    response = admin.post(
        f"/settings/departments/{sales.pk}/edit/",
        {"name": "销售部", "parent": first.pk, "leader": sales.leader_id, "sort": sales.sort},
        **HTMX,
    )
    assert response.status_code == 400
    assert "上级部门不能是本部门或其下属部门" in response.content.decode()
    sales.refresh_from_db()
    assert sales.parent is None
    assert ChangeLog.objects.count() == logs


def test_department_cannot_be_its_own_parent(admin):
    sales = dept("销售部")
    response = admin.post(
        f"/settings/departments/{sales.pk}/edit/",
        {"name": "销售部", "parent": sales.pk, "sort": sales.sort},
        **HTMX,
    )
    assert response.status_code == 400
    assert "上级部门不能是本部门或其下属部门" in response.content.decode()
    sales.refresh_from_db()
    assert sales.parent is None


def test_rename_department_logs_the_change(admin):
    service = dept("售后部")
    response = admin.post(
        f"/settings/departments/{service.pk}/edit/",
        {"name": "售后服务部", "sort": service.sort},
        **HTMX,
    )
    assert response.status_code == 204
    service.refresh_from_db()
    assert service.name == "售后服务部"
    log = ChangeLog.objects.filter(object_type="org.department", object_id=service.pk).get()
    assert log.action == Action.UPDATE
    assert log.changes["name"] == ["售后部", "售后服务部"]


def test_new_user_without_password_is_refused(admin):
    before = User.objects.count()
    response = admin.post(
        "/settings/users/add/",
        {"username": "newbie", "name": "新人", "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "初始密码" in response.content.decode()
    assert User.objects.count() == before
    assert not User.objects.filter(username="newbie").exists()


def test_new_user_with_a_weak_password_is_refused(admin):
    response = admin.post(
        "/settings/users/add/",
        {"username": "newbie", "name": "新人", "password": "123", "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "密码" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_new_user_can_log_in_with_the_initial_password(admin, org):
    role = Role.objects.get(code="salesperson")
    response = admin.post(
        "/settings/users/add/",
        {
            "username": "sales4",
            "name": "周业务",
            "password": "Kehu-secret-2024",
            "department": org["sales3"].department_id,
            "roles": [role.pk],
            "is_active": "on",
        },
        **HTMX,
    )
    assert response.status_code == 204
    user = User.objects.get(username="sales4")
    assert list(user.roles.all()) == [role]
    log = ChangeLog.objects.get(object_type="org.user", object_id=user.pk)
    assert log.action == Action.CREATE
    assert "password" not in json.dumps(log.snapshot)
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "sales4", "password": "Kehu-secret-2024"}
    )
    assert response.status_code == 302


def test_editing_a_user_without_password_keeps_the_password(admin, org):
    sales2 = org["sales2"]
    response = admin.post(
        f"/settings/users/{sales2.pk}/edit/",
        {
            "username": "sales2",
            "name": "张业务（改）",
            "department": sales2.department_id,
            "roles": [r.pk for r in sales2.roles.all()],
            "is_active": "on",
        },
        **HTMX,
    )
    assert response.status_code == 204
    sales2.refresh_from_db()
    assert sales2.name == "张业务（改）"
    assert sales2.check_password("demo1234")


def test_builtin_role_cannot_be_deleted(admin):
    role = Role.objects.get(code="salesperson")
    response = admin.post(f"/settings/roles/{role.pk}/delete/", **HTMX)
    assert response.status_code == 400
    assert "内置角色不能删除" in response.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()


def test_role_in_use_cannot_be_deleted_and_an_unused_one_can(admin, org):
    used = Role.objects.create(name="临时角色", code="temp")
    org["sales1"].roles.add(used)
    response = admin.post(f"/settings/roles/{used.pk}/delete/", **HTMX)
    assert response.status_code == 400
    assert "该角色仍有员工在使用" in response.content.decode()
    assert Role.objects.filter(pk=used.pk).exists()

    unused = Role.objects.create(name="空角色", code="empty")
    response = admin.post(f"/settings/roles/{unused.pk}/delete/", **HTMX)
    assert response.status_code == 204
    assert not Role.objects.filter(pk=unused.pk).exists()
    assert ChangeLog.objects.filter(
        action=Action.DELETE, object_type="org.role", object_id=unused.pk
    ).exists()


def test_admin_role_keeps_all_permissions(admin):
    role = Role.objects.get(code="admin")
    response = admin.post(
        f"/settings/roles/{role.pk}/edit/",
        {"name": role.name, "code": role.code, "data_scope": "all"},
        **HTMX,
    )
    assert response.status_code == 204
    role.refresh_from_db()
    assert role.is_admin


def test_builtin_role_code_cannot_be_changed(admin):
    role = Role.objects.get(code="admin")
    response = admin.post(
        f"/settings/roles/{role.pk}/edit/",
        {"name": role.name, "code": "boss", "data_scope": "self"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "内置角色的代码不能修改" in response.content.decode()
    role.refresh_from_db()
    assert (role.code, role.is_admin, role.data_scope) == ("admin", True, "all")


def test_custom_role_can_be_created_and_renamed(admin):
    response = admin.post(
        "/settings/roles/add/", {"name": "区域经理", "code": "area", "data_scope": "dept"}, **HTMX
    )
    assert response.status_code == 204
    role = Role.objects.get(code="area")
    assert not role.is_builtin
    response = admin.post(
        f"/settings/roles/{role.pk}/edit/",
        {"name": "大区经理", "code": "region", "data_scope": "dept_and_below"},
        **HTMX,
    )
    assert response.status_code == 204
    role.refresh_from_db()
    assert (role.name, role.code, role.data_scope) == ("大区经理", "region", "dept_and_below")


# --- deleting departments ---------------------------------------------------------------------


def test_department_with_members_cannot_be_deleted(admin):
    first = dept("销售一部")
    response = admin.post(f"/settings/departments/{first.pk}/delete/", **HTMX)
    assert response.status_code == 400
    assert "该部门下还有员工，不能删除" in response.content.decode()
    assert Department.objects.filter(pk=first.pk).exists()


def test_department_with_members_cannot_be_deleted_without_htmx(admin):
    first = dept("销售一部")
    response = admin.post(f"/settings/departments/{first.pk}/delete/")
    assert response.status_code == 400
    assert "该部门下还有员工，不能删除" in response.content.decode()
    assert Department.objects.filter(pk=first.pk).exists()


def test_department_with_children_cannot_be_deleted(admin):
    parent = Department.objects.create(name="华东区")
    Department.objects.create(name="上海办", parent=parent)
    response = admin.post(f"/settings/departments/{parent.pk}/delete/", **HTMX)
    assert response.status_code == 400
    assert "该部门下还有子部门，不能删除" in response.content.decode()
    assert Department.objects.filter(pk=parent.pk).exists()


def test_empty_department_is_deleted_and_logged(admin):
    empty = Department.objects.create(name="临时部门")
    response = admin.get(f"/settings/departments/{empty.pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert "临时部门" in response.content.decode()
    response = admin.post(f"/settings/departments/{empty.pk}/delete/", **HTMX)
    assert response.status_code == 204
    assert "objectSaved" in json.loads(response["HX-Trigger"])
    assert not Department.objects.filter(pk=empty.pk).exists()
    log = ChangeLog.objects.get(object_type="org.department", object_id=empty.pk)
    assert log.action == Action.DELETE
    assert log.snapshot["name"] == "临时部门"


def test_deleting_a_missing_department_is_404(admin):
    assert admin.post("/settings/departments/999999/delete/", **HTMX).status_code == 404


# --- dictionaries -----------------------------------------------------------------------------


def test_add_dictionary_entry(admin):
    response = admin.post(
        "/settings/dictionaries/add/",
        {"kind": "sources", "name": "抖音", "sort": 9, "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 204
    assert DictEntry.objects.filter(kind="sources", name="抖音").exists()


def test_duplicate_dictionary_name_is_refused(admin):
    before = DictEntry.objects.count()
    response = admin.post(
        "/settings/dictionaries/add/",
        {"kind": "levels", "name": "A重点客户", "sort": 9, "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "字典项 已经存在" in response.content.decode()
    assert DictEntry.objects.count() == before


def test_same_name_in_another_dictionary_is_allowed(admin):
    response = admin.post(
        "/settings/dictionaries/add/",
        {"kind": "tags", "name": "A重点客户", "sort": 9, "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 204


def test_dictionary_kind_cannot_be_changed(admin):
    entry = DictEntry.objects.get(kind="levels", name="C一般客户")
    response = admin.post(
        f"/settings/dictionaries/{entry.pk}/edit/",
        {"kind": "sources", "name": "C一般客户", "sort": 3, "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "字典类型不能修改" in response.content.decode()
    entry.refresh_from_db()
    assert entry.kind == "levels"


def test_disabling_a_dictionary_entry(admin):
    entry = DictEntry.objects.get(kind="levels", name="C一般客户")
    response = admin.post(
        f"/settings/dictionaries/{entry.pk}/edit/",
        {"kind": "levels", "name": "C一般客户", "sort": 3},
        **HTMX,
    )
    assert response.status_code == 204
    entry.refresh_from_db()
    assert entry.is_active is False


def test_unused_dictionary_entry_can_be_deleted(admin):
    entry = DictEntry.objects.create(kind="stores", name="门店C", sort=3)
    response = admin.post(f"/settings/dictionaries/{entry.pk}/delete/", **HTMX)
    assert response.status_code == 204
    assert not DictEntry.objects.filter(pk=entry.pk).exists()
    assert ChangeLog.objects.filter(
        action=Action.DELETE, object_type="basics.dictentry", object_id=entry.pk
    ).exists()


def test_dictionary_entry_in_use_cannot_be_deleted(admin, monkeypatch):
    from kehu.core import registry

    entry = DictEntry.objects.create(kind="stores", name="门店D", sort=4)
    guards = {
        "basics.dictentry": [
            lambda e: "该字典项正在使用，不能删除，可以停用" if e.pk == entry.pk else None
        ]
    }
    monkeypatch.setattr(registry, "delete_guards", guards)
    response = admin.post(f"/settings/dictionaries/{entry.pk}/delete/", **HTMX)
    assert response.status_code == 400
    assert "正在使用" in response.content.decode()
    assert DictEntry.objects.filter(pk=entry.pk).exists()
    assert not ChangeLog.objects.filter(action=Action.DELETE, object_id=entry.pk).exists()
