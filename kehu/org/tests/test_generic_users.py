"""员工: the generic page tests (kehu/core/testing.py) declared for a settings page.

Employees have a list, an add and an edit page but no delete (they leave through 离职交接 and
``is_active``), so only those three classes are mixed in. Only the permission decides (no data
scope): 业务员 is refused with 403 everywhere, the list included. A new employee needs an
initial password; an edit with the password left empty keeps the old one."""

from __future__ import annotations

from kehu.core.testing import ViewTestCases, unique, unique_mobile
from kehu.org.models import Role, User
from kehu.org.services import user_save

PASSWORD = "Kehu-通用测试-2468"


class TestUserPages(
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
):
    model = User
    url_name = "user"
    owner, outsider, read_only = "admin", "sales1", "sales1"
    outsider_status = outsider_list_status = read_only_view_status = 403
    max_list_queries = 15  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def make(self, org):
        data = {
            "username": unique("generic_user"),
            "name": unique("通用员工"),
            "mobile": unique_mobile(),
            "department": org["sales1"].department,
            "roles": [Role.objects.get(code="salesperson")],
            "is_active": True,
            "password": PASSWORD,
        }
        return user_save(actor=org[self.owner], instance=None, data=data)

    def form_data(self, obj):
        return {
            "username": unique("page_user"),
            "name": unique("页面员工"),
            "mobile": unique_mobile(),
            "email": f"{unique('user')}@example.com",
            "department": self.org["sales3"].department_id,
            "roles": [Role.objects.get(code="after_sales").pk],
            "is_active": "on",
            "password": "",
        }

    def add_data(self, obj):
        return {**self.form_data(obj), "password": PASSWORD}

    def assert_saved(self, obj, data):
        password = data["password"]
        super().assert_saved(obj, {k: v for k, v in data.items() if k != "password"})
        assert obj.is_active is True
        assert list(obj.roles.values_list("pk", flat=True)) == data["roles"]
        # The add sets the initial password; an edit with it left empty keeps the old one.
        assert obj.check_password(password or PASSWORD)
