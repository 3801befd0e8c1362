"""Extension points other apps register into (so no module edits another's code).

- ``todo_counters``: callables ``(user) -> int`` summed into the 通知代办 badge.
- ``delete_guards``: ``{model label: [callable(instance) -> reason | None]}``: documents that
  reference a record register a guard here; a non-None reason refuses the delete (SPEC §2.2).
  A guard registered with ``many=True`` is set-based instead: ``callable(queryset) -> {id:
  reason}`` for the rows of the queryset it refuses — one query for a whole batch delete
  (:func:`delete_refusals`), and for a single delete too (a queryset of one row).
- ``log_visibility``: ``{object type: callable(user) -> queryset of visible ids}`` for the log API.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

todo_counters: list[Callable[[Any], int]] = []
# per-instance guards: (instance) -> reason | None; set-based (``many``): (queryset) -> {id: reason}
delete_guards: dict[str, list[Callable[[Any], Any]]] = defaultdict(list)
log_visibility: dict[str, Callable[[Any], Any]] = {}


def register_delete_guard(model_label: str, *, many: bool = False):
    """Register a delete guard of ``model_label``: ``fn(instance) -> reason | None``, or with
    ``many=True`` ``fn(queryset) -> {id: reason}`` (set-based, for batch deletes)."""

    def decorator(fn):
        fn.many = many
        delete_guards[model_label].append(fn)
        return fn

    return decorator


def delete_refusal(instance) -> str | None:
    """The first reason any registered guard gives for refusing to delete ``instance``."""
    for guard in delete_guards.get(instance._meta.label_lower, []):
        if getattr(guard, "many", False):
            one = type(instance)._default_manager.filter(pk=instance.pk)
            reason = guard(one).get(instance.pk)
        else:
            reason = guard(instance)
        if reason:
            return reason
    return None


def delete_refusals(queryset) -> dict[Any, str]:
    """``{id: reason}`` for the rows of ``queryset`` a guard refuses to delete: per row the
    first reason in registration order, as :func:`delete_refusal` gives it. A set-based guard
    costs one query (or a few) for the whole set; a per-instance guard still runs once per row
    not refused yet."""
    reasons: dict[Any, str] = {}
    rows = None
    for guard in delete_guards.get(queryset.model._meta.label_lower, []):
        if getattr(guard, "many", False):
            for pk, reason in guard(queryset).items():
                if reason:
                    reasons.setdefault(pk, reason)
            continue
        if rows is None:
            rows = list(queryset)
        for row in rows:
            if row.pk not in reasons:
                reason = guard(row)
                if reason:
                    reasons[row.pk] = reason
    return reasons


# ``dashboard_cards``: callables ``(user) -> {"label", "value", "url", "icon"} | None``.
dashboard_cards: list[Callable[[Any], dict | None]] = []

# ``attachment_visibility``: {model label: callable(user) -> queryset of objects the user sees}.
attachment_visibility: dict[str, Callable[[Any], Any]] = {}

# ``return_exemptions``: callables ``(customer queryset) -> iterable of ids`` never returned to
# the pool automatically (e.g. open opportunities, open service orders).
return_exemptions: list[Callable[[Any], Any]] = []

# ``log_maskers``: {object type: callable(list of ChangeLog rows) -> None} hiding, in place and for
# display only, values readers may not see (e.g. contact data of pool customers).
log_maskers: dict[str, Callable[[list], None]] = {}


def mask_log_entries(entries: list) -> list:
    by_type: dict[str, list] = defaultdict(list)
    for entry in entries:
        by_type[entry.object_type].append(entry)
    for object_type, rows in by_type.items():
        masker = log_maskers.get(object_type)
        if masker:
            masker(rows)
    return entries


@dataclass(frozen=True)
class PortraitTab:
    """One tab of the 客户画像 (SPEC §7): shown in ``order`` to holders of ``permission``.

    ``rows(user, customer, in_pool)`` is the queryset of the tab's rows for that customer,
    through the app's own selector (its count on the tab label: all tabs are counted in one
    query, :func:`kehu.customers.tabs.tab_counts`); ``render(request, customer, ctx)`` draws the
    open tab only (``ctx``: ``rows``, ``can_manage``, ``in_pool``, ``read_only``). Every tab has
    the URL ``customer_tab`` (``/customers/<pk>/tabs/<key>/``), loaded over HTMX when opened.
    ``in_pool``: also shown, read-only and masked, on a pool customer's portrait."""

    key: str
    label: str
    order: int
    permission: str | None
    rows: Callable[[Any, Any, bool], Any]
    render: Callable[[Any, Any, Any], str]
    in_pool: bool = True


# ``portrait_tabs``: {key: PortraitTab}. A document type's tab comes from its declaration
# (``tab_key``, ``tab_label``, ``tab_order``: kehu/documents/views.py ``document_portrait_tab``);
# the seed's order is 跟进记录 0, 联系人 5, 客户商机 10, 报价单列表 20, 合同 30, 回款信息 40,
# 回款计划 50, 客户车辆 60, 维修记录 70, 保养记录 80, 挂账订单列表 90, 附件 200, 日志 210.
portrait_tabs: dict[str, PortraitTab] = {}


def register_portrait_tab(tab: PortraitTab) -> PortraitTab:
    portrait_tabs[tab.key] = tab
    return tab


def ordered_portrait_tabs() -> list[PortraitTab]:
    return sorted(portrait_tabs.values(), key=lambda t: (t.order, t.key))


# ``funnel_stages``: [(order, label, callable(user) -> int | None)] — the dashboard's 我的销售漏斗
# (线索 → 客户 → 商机 → 成交), each stage counted by the app that owns it; None hides a stage
# the user may not see.
funnel_stages: list[tuple[int, str, Callable[[Any], int | None]]] = []


# ``todo_lists``: {key: (title, callable(user) -> list of {"id", "label", "detail", "url", …})} —
# the lists other apps add to 通知代办 (``payment_plans_due``, ``approvals``): shown on /todo/
# and answered by ``GET /api/v1/todo`` under their key.
todo_lists: dict[str, tuple[str, Callable[[Any], list[dict]]]] = {}

# ``todo_querysets``: callables ``(user) -> [queryset, …]`` whose rows the 通知代办 badge counts,
# all of them in ONE ``UNION ALL`` count with the approvals (kehu/sales/hooks.py), so a new
# reminder costs no extra query on every page.
todo_querysets: list[Callable[[Any], list[Any]]] = []


# ``recyclable_models``: labels of the models whose delete services move rows to the 回收站
# (kehu/recyclebin), so a delete confirmation can say the record can be restored.
recyclable_models: set[str] = set()


# ``matching_actions``: {key: kehu.core.jobs.MatchingAction} — batch actions that can run on
# 全部符合条件的记录 (every record a list's filters match) as a background job with progress,
# beyond the KEHU_BATCH_MAX_IDS ids one request may name (issue 10). The customers app
# registers ``customers.delete``.
matching_actions: dict[str, Any] = {}
