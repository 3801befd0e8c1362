"""角色: the generic page tests (kehu/core/testing.py) declared for a settings page.

As for departments, only the permission decides (no data scope): 业务员 is refused with 403
everywhere, the list included. The sample is a custom role (built-in roles cannot be deleted,
nor their code changed); the form also sets its permissions, checked after each save."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from kehu.core.testing import ViewTestCases, unique
from kehu.org.models import DataScope, Role
from kehu.org.services import role_save


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class TestRolePages(
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    model = Role
    url_name = "role"
    owner, outsider, read_only = "admin", "sales1", "sales1"
    outsider_status = outsider_list_status = read_only_view_status = 403
    max_list_queries = 12  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def make(self, org):
        data = {
            "name": unique("通用角色"),
            "code": unique("generic-role-"),
            "data_scope": DataScope.SELF,
            "permissions": [permission("customers.view_customer")],
        }
        return role_save(actor=org[self.owner], instance=None, data=data)

    def form_data(self, obj):
        return {
            "name": unique("页面角色"),
            "code": unique("page-role-"),
            "data_scope": DataScope.DEPT,
            "permissions": [
                permission("customers.view_customer").pk,
                permission("basics.view_dictentry").pk,
            ],
            "remark": "通用测试",
        }

    def assert_saved(self, obj, data):
        super().assert_saved(obj, data)
        assert obj.is_admin is False  # the unchecked box
        assert sorted(obj.permissions.values_list("pk", flat=True)) == sorted(data["permissions"])
