"""字典: the generic page tests (kehu/core/testing.py) declared for a settings page.

As for departments, only the permission decides (no data scope): 业务员 is refused with 403
everywhere, the list included. The samples are 跟进类型 entries sorted first (kind, sort, id),
so that they are on the list's first page ahead of the 48 seeded entries. An entry's kind is
fixed once created: the edit posts the same kind."""

from __future__ import annotations

from kehu.basics.models import DictEntry, DictKind
from kehu.basics.services import dict_entry_save
from kehu.core.testing import ViewTestCases, unique
from kehu.org.testing import org  # noqa: F401  (this package has no conftest)

KIND = DictKind.FOLLOWUP_TYPE  # the first kind in the list's order


class TestDictEntryPages(
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    model = DictEntry
    url_name = "dictentry"
    owner, outsider, read_only = "admin", "sales1", "sales1"
    outsider_status = outsider_list_status = read_only_view_status = 403
    max_list_queries = 12  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def make(self, org):  # noqa: F811
        data = {"kind": KIND, "name": unique("通用字典项"), "sort": 0, "is_active": True}
        return dict_entry_save(actor=org[self.owner], instance=None, data=data)

    def form_data(self, obj):
        return {
            "kind": obj.kind,
            "name": unique("页面字典项"),
            "sort": "3",
            "is_active": "on",
            "remark": "通用测试",
        }

    def assert_saved(self, obj, data):
        super().assert_saved(obj, data)
        assert (obj.sort, obj.is_active) == (int(data["sort"]), True)
