"""The 客户画像 tabs (SPEC §7): the customer's own ones (跟进记录, 联系人, 附件, 日志) registered
here; the documents' come from their declarations (``kehu.documents.views``) and 客户商机 from
``kehu.sales.hooks``. :func:`visible_tabs` gives a user's tabs in the seed's order,
:func:`tab_counts` counts them all in ONE query, :func:`render_tab` draws the open one only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse

from kehu.audit.display import describe
from kehu.core.registry import (
    PortraitTab,
    ordered_portrait_tabs,
    portrait_tabs,
    register_portrait_tab,
)

from . import masking

PER_PAGE = 10


@dataclass(frozen=True)
class TabContext:
    rows: Any  # the tab's queryset for this customer (PortraitTab.rows)
    can_manage: bool
    in_pool: bool
    allowed: dict[str, bool] = field(default_factory=dict)
    url: str = ""

    @property
    def read_only(self) -> bool:
        """A pool customer's tabs only show (SPEC §3): 领取 first."""
        return self.in_pool


def visible_tabs(user, *, in_pool: bool) -> list[PortraitTab]:
    """The tabs ``user`` holds the permission of, in order; a pool customer's without those
    that stay with its owner (附件)."""
    from kehu.documents.views import register_declared_tabs

    register_declared_tabs()  # a newly declared document type brings its tab
    return [
        t
        for t in ordered_portrait_tabs()
        if (t.permission is None or user.has_perm(t.permission)) and (t.in_pool or not in_pool)
    ]


def tab_counts(tabs: list[PortraitTab], *, user, customer, in_pool: bool) -> dict[str, int]:
    """Every tab's row count in ONE query (a UNION ALL of ``COUNT(*)`` per tab)."""
    parts, params = [], []
    for tab in tabs:
        rows = tab.rows(user, customer, in_pool)
        if not isinstance(rows, QuerySet):
            continue
        sql, p = rows.order_by().values("pk").query.sql_with_params()
        parts.append(f"SELECT %s, COUNT(*) FROM ({sql}) t{len(parts)}")
        params.extend([tab.key, *p])
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {key: int(n) for key, n in cursor.fetchall()}


def tab_url(customer, key: str) -> str:
    return reverse("customer_tab", args=[customer.pk, key])


def render_tab(request, customer, tab: PortraitTab, *, in_pool: bool, allowed) -> str:
    ctx = TabContext(
        rows=tab.rows(request.user, customer, in_pool),
        can_manage=bool(allowed.get("change")),
        in_pool=in_pool,
        allowed=allowed,
        url=tab_url(customer, tab.key),
    )
    return tab.render(request, customer, ctx)


def _page(request, rows):
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


# --- 跟进记录 ----------------------------------------------------------------------------------


def _followup_rows(user, customer, in_pool: bool):
    if in_pool:
        from kehu.pool.selectors import pool_customer_followups

        return pool_customer_followups(user=user, customer=customer)
    from kehu.followups.selectors import followup_list

    return followup_list(user=user).filter(customer_id=customer.pk)


def _render_followups(request, customer, ctx: TabContext) -> str:
    """The history first (newest on top), the seed's 【添加】 opening the follow-up dialog;
    ``?opportunity=`` (跟进 of a 商机 row) opens it at once with that 商机 chosen."""
    page = _page(request, ctx.rows.order_by("-followed_at", "-id"))
    add_url = None
    if not ctx.read_only and ctx.allowed.get("add_followup"):
        add_url = reverse("followup_add", args=[customer.pk])
        opportunity = request.GET.get("opportunity", "")
        if opportunity.isdigit():
            add_url += f"?opportunity={opportunity}"
    return render_to_string(
        "customers/htmx/tab_followups.html",
        {
            "customer": customer,
            "page": page,
            "ctx": ctx,
            "add_url": add_url,
            "open_now": "opportunity=" in (add_url or ""),
        },
        request=request,
    )


# --- 联系人 ------------------------------------------------------------------------------------


def _contact_rows(user, customer, in_pool: bool):
    from .models import Contact

    if in_pool:
        from kehu.pool.selectors import pool_customer_rows

        return pool_customer_rows(Contact.objects.all(), user=user, customer=customer)
    from .selectors import contact_list

    return contact_list(user=user).filter(customer_id=customer.pk)


def _render_contacts(request, customer, ctx: TabContext) -> str:
    page = _page(request, ctx.rows.order_by("-is_primary", "-id"))
    rows = [(c, masking.contact_fields(customer, c)) for c in page.object_list]
    allowed = {} if ctx.read_only else ctx.allowed
    return render_to_string(
        "customers/htmx/tab_contacts.html",
        {"customer": customer, "page": page, "rows": rows, "ctx": ctx, "allowed": allowed},
        request=request,
    )


# --- 附件 --------------------------------------------------------------------------------------


def _attachment_rows(user, customer, in_pool: bool):
    from kehu.core.attachments import attachments_of

    return attachments_of(customer)


def _render_attachments(request, customer, ctx: TabContext) -> str:
    page = _page(request, ctx.rows.order_by("-created_at", "-id"))
    return render_to_string(
        "customers/htmx/tab_attachments.html",
        {
            "customer": customer,
            "page": page,
            "ctx": ctx,
            "can_upload": not ctx.read_only and ctx.allowed.get("change"),
        },
        request=request,
    )


# --- 日志 --------------------------------------------------------------------------------------


def _log_rows(user, customer, in_pool: bool):
    """The customer's change log through the one reader path: rows come prepared (secrets
    stripped, contact values masked as SPEC §3 says, labels and display values added)."""
    if in_pool:
        from kehu.pool.selectors import pool_customer_log_rows

        return pool_customer_log_rows(user=user, customer=customer)
    from kehu.audit.selectors import changelog_list

    return changelog_list(user=user, object_type="customers.customer", object_id=customer.pk)


def _render_log(request, customer, ctx: TabContext) -> str:
    """The rows in the user's language (``audit/_entries.html``: 客户等级：B普通客户 → A重点客户),
    as on /audit/."""
    page = _page(request, ctx.rows.order_by("-id"))
    entries = describe(list(page.object_list))  # already described by the reader iterable
    return render_to_string(
        "customers/htmx/tab_log.html",
        {"page": page, "entries": entries, "ctx": ctx},
        request=request,
    )


for _tab in (
    PortraitTab(
        "followups", "跟进记录", 0, "followups.view_followup", _followup_rows, _render_followups
    ),
    PortraitTab("contacts", "联系人", 5, "customers.view_contact", _contact_rows, _render_contacts),
    # A pool customer's attachments open for its owner only (after 领取).
    PortraitTab("attachments", "附件", 200, None, _attachment_rows, _render_attachments, False),
    PortraitTab("log", "日志", 210, None, _log_rows, _render_log),
):
    if _tab.key not in portrait_tabs:
        register_portrait_tab(_tab)
