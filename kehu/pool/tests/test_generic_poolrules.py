"""公海规则: the generic page tests (kehu/core/testing.py) declared for a settings page.

Pools have a list, an add and an edit page (PoolSettingsEditView) but no delete, so only those
three classes are mixed in. Only the permission decides (no data scope; pool_save also refuses
anyone but an administrator): 业务员 is refused with 403 everywhere, the list included. The
form's numbers, check boxes and member departments are checked after each save."""

from __future__ import annotations

from kehu.core.testing import ViewTestCases, unique
from kehu.pool.models import Pool
from kehu.pool.services import pool_save

NUMBERS = (
    "no_followup_days",
    "not_won_days",
    "remind_days",
    "max_owned",
    "daily_claim_limit",
    "reclaim_cooldown_days",
    "lock_limit",
)
CHECKBOXES = (
    "exempt_won",
    "exempt_open_opportunity",
    "exempt_open_service_orders",
    "count_won_in_limit",
)


class TestPoolRulePages(
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
):
    model = Pool
    url_name = "poolrule"
    owner, outsider, read_only = "admin", "sales1", "sales1"
    outsider_status = outsider_list_status = read_only_view_status = 403
    max_list_queries = 13  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def make(self, org):
        data = {"name": unique("通用公海"), "no_followup_days": 20, "remind_days": 2}
        return pool_save(actor=org[self.owner], instance=None, data=data)

    def form_data(self, obj):
        return {
            "name": unique("页面公海"),
            "departments": [self.org["sales3"].department_id],
            "no_followup_days": "45",
            "not_won_days": "90",
            "level_days": "{}",
            "exempt_won": "on",
            # exempt_open_opportunity left unchecked
            "exempt_open_service_orders": "on",
            "remind_days": "5",
            "max_owned": "200",
            "count_won_in_limit": "on",
            "daily_claim_limit": "10",
            "reclaim_cooldown_days": "7",
            "lock_limit": "3",
        }

    def assert_saved(self, obj, data):
        super().assert_saved(obj, data)
        assert {f: getattr(obj, f) for f in NUMBERS} == {f: int(data[f]) for f in NUMBERS}
        assert {f: getattr(obj, f) for f in CHECKBOXES} == {f: f in data for f in CHECKBOXES}
        assert obj.level_days == {}
        assert list(obj.departments.values_list("pk", flat=True)) == data["departments"]
