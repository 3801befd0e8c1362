"""Follow-up reads and the 通知代办 inbox, always through the customer visibility rule."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.selectors import customer_visible_q, visible_customers
from kehu.org.authz import restrict

from .models import FollowUp


def followup_list(*, user) -> QuerySet[FollowUp]:
    """Follow-ups of the customers the user sees, for a role with the follow-up view permission."""
    return (
        restrict(FollowUp.objects.all(), user)
        .filter(customer__in=visible_customers(user).values("pk"))
        .select_related("customer", "type", "author", "contact", "customer__owner", "opportunity")
    )


def today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of today in Asia/Shanghai (the configured time zone), as aware datetimes."""
    local = timezone.localtime(now or timezone.now())
    start = timezone.make_aware(datetime.combine(local.date(), time.min))
    return start, start + timedelta(days=1)


def followups_due(*, user, now: datetime | None = None) -> dict[str, QuerySet[Customer]]:
    """今日待跟进客户: the user's own customers due today, and those overdue (SPEC §5.2)."""
    start, end = today_bounds(now)
    # The user's own customers, through the visibility rule (a plain owner filter, index-friendly).
    mine = Customer.objects.filter(customer_visible_q(user, owners=[user.pk])).select_related(
        "level", "owner"
    )
    return {
        "today": mine.filter(next_followup_at__gte=start, next_followup_at__lt=end).order_by(
            "next_followup_at"
        ),
        "overdue": mine.filter(next_followup_at__lt=start).order_by("next_followup_at"),
    }


def pool_returning(*, user, now: datetime | None = None) -> QuerySet[Customer]:
    """The user's customers that return to the pool within the reminder days."""
    from kehu.pool.rules import pool_for_user

    now = now or timezone.now()
    remind = pool_for_user(user).remind_days
    if not remind:
        return Customer.objects.none()
    return Customer.objects.filter(
        owner_id=user.pk,
        pool_return_at__isnull=False,
        pool_return_at__lt=now + timedelta(days=remind),
    ).order_by("pool_return_at")


def todo_count(user, now: datetime | None = None) -> int:
    """The badge: due today plus overdue plus returning soon — three index-only counts of the
    lists :func:`followups_due` and :func:`pool_returning` define."""
    if not user.has_perm("customers.view_customer"):
        return 0
    due = followups_due(user=user, now=now)
    return (
        due["today"].count() + due["overdue"].count() + pool_returning(user=user, now=now).count()
    )
