"""部门: the generic page tests (kehu/core/testing.py) declared for a settings page.

Settings have no data scope: the permission alone decides, so whoever lacks it (业务员) is
refused with 403 everywhere — the list included — rather than shown an empty list or a 404."""

from __future__ import annotations

from kehu.core.testing import ViewTestCases, unique
from kehu.org.models import Department
from kehu.org.services import department_save


class TestDepartmentPages(
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    model = Department
    url_name = "department"
    owner, outsider, read_only = "admin", "sales1", "sales1"
    outsider_status = outsider_list_status = read_only_view_status = 403
    max_list_queries = 12  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def make(self, org):
        data = {"name": unique("通用部门"), "parent": None, "sort": 9}
        return department_save(actor=org[self.owner], instance=None, data=data)

    def form_data(self, obj):
        return {"name": unique("页面部门"), "parent": "", "leader": "", "sort": "5"}
