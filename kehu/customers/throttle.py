"""查重 quota (SPEC §13, "masking against enumeration"): the one function every duplicate check
goes through — the API (``POST /api/v1/customers/duplicate-check``), the 查重 dialog, and the
duplicate warning when a customer is saved (``services._check_duplicates``).

What and why
------------
A pool customer's phone is masked everywhere (SPEC §3), yet 查重 tells which customer has a
phone: its name, owner or 公海, status and created date (SPEC §2.3, §10.1 — the "limited answer"
SPEC §3 allows). Unthrottled, trying ~10,000 candidate numbers recovers a masked phone. So every
user has one quota, shared by the three doors, admins included: ``KEHU_DUPLICATE_CHECK_LIMITS``
checks per rolling minute and per calendar day (Asia/Shanghai). Beyond it the check is refused
before anything is searched: :class:`DuplicateCheckThrottled` (HTTP 429, Chinese message; a save
that needed the check is not made). Every call, allowed or refused, is one ``DuplicateCheckLog``
row (phone masked), and a user's first refusal in a window writes a change-log row
("查重过于频繁：sales1 一分钟内 31 次") that admins find in 日志 (/audit/) and on the 首页 card
查重告警 (``hooks.py``).

Why the log table counts, not django-ratelimit's cache counters
--------------------------------------------------------------
- Without ``REDIS_URL`` the cache is LocMemCache, one per gunicorn worker (the Procfile starts
  two): a cache counter would allow workers × limit and forget everything on a restart.
  django-ratelimit's own system check flags LocMemCache ("not a shared cache"), FileBasedCache
  and DatabaseCache ("no atomic increment"): the embedded deployment (SQLite, no Redis, SPEC
  §12.3) has no cache it supports. Redis exists only in production.
- DatabaseCache counters would be written in the caller's transaction like any other row.
- The log is required anyway, lives in the database every worker and app server shares, works
  alike on SQLite and PostgreSQL, and needs no dependency, cache alias or ``createcachetable``.
  The count is one range scan of the index (user, refused_by, created_at): at most ``day``
  rows, however many refused rows a burst left.

Correctness
-----------
- Concurrency: the count and the insert share one transaction serialised per user — on
  PostgreSQL by ``pg_advisory_xact_lock``, on SQLite by its single writer (``BEGIN IMMEDIATE``) —
  so parallel requests of one user cannot all read "29" and all pass.
- Rollback: the check writes its row in its own short transaction, so callers run it before
  they open theirs — ``customer_create``/``customer_update`` and ``lead_convert`` warn about
  duplicates first and save afterwards — and a save the warning (or the quota) stops still
  counts and stays logged. Called inside a transaction that is rolled back, the row would go
  with it: don't.
- A flood: a refusal stands until time frees a slot (other workers can only add checks), so it
  is remembered in the cache with its end; until then a refused request costs one INSERT (its
  log row) and no count. A shortcut only — the database decides — so LocMemCache is enough.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change
from kehu.core.errors import ApplicationError

from .dedupe import DuplicateMatch, find_duplicates
from .masking import mask_phone
from .models import DuplicateCheckLog, DuplicateCheckSource
from .validation import normalize_credit_code, normalize_phone

DEFAULT_LIMITS = {"minute": 30, "day": 300}
WINDOWS = ("minute", "day")
MINUTE = timedelta(seconds=60)
# The change-log rows reporting bursts point at the refused DuplicateCheckLog row.
REPORT_OBJECT_TYPE = DuplicateCheckLog._meta.label_lower
_LOCK_NAMESPACE = 0x6B6568  # pg_advisory_xact_lock(namespace, user id): one lock per user


class DuplicateCheckThrottled(ApplicationError):
    """Too many 查重 by one user: HTTP 429 in the API, the message in the pages."""

    status = 429

    def __init__(self, message: str, **kwargs) -> None:
        super().__init__(message, code="duplicate_check_throttled", **kwargs)


def limits() -> dict[str, int]:
    """``{"minute": n, "day": m}`` from settings; 0 turns a window off."""
    configured = getattr(settings, "KEHU_DUPLICATE_CHECK_LIMITS", None) or {}
    return {
        window: max(0, int(configured.get(window, default) or 0))
        for window, default in DEFAULT_LIMITS.items()
    }


def limit_message(current: dict[str, int] | None = None) -> str:
    """查重过于频繁，请稍后再试（每分钟最多30次，每天最多300次）"""
    current = current or limits()
    parts = []
    if current["minute"]:
        parts.append(f"每分钟最多{current['minute']}次")
    if current["day"]:
        parts.append(f"每天最多{current['day']}次")
    return f"查重过于频繁，请稍后再试（{'，'.join(parts)}）"


def duplicate_check(
    *,
    actor,
    source: str,
    name: str | None = None,
    phone: str | None = None,
    credit_code: str | None = None,
    exclude_id: int | None = None,
) -> list[DuplicateMatch]:
    """``find_duplicates`` within ``actor``'s quota; logs the call (``source``: api, page, form).

    Raises :class:`DuplicateCheckThrottled` (429) beyond the quota, without searching."""
    # The one input boundary of 查重 (page, form, API): phones and credit codes as stored.
    phone = normalize_phone(phone) if phone else phone
    credit_code = normalize_credit_code(credit_code) if credit_code else credit_code
    if actor is None or not getattr(actor, "is_authenticated", False):
        # No user behind the call (a command, the demo data): no quota to count against.
        return find_duplicates(
            name=name, phone=phone, credit_code=credit_code, exclude_id=exclude_id
        )
    if source not in DuplicateCheckSource.values:
        raise ValueError(f"unknown duplicate-check source: {source}")
    now = timezone.now()
    current = limits()
    fields: dict[str, Any] = {
        "user_id": actor.pk,
        "created_at": now,
        "source": source,
        "name_query": (name or "").strip()[:100],
        "phone_query": mask_phone((phone or "").strip())[:30],
        "credit_code_query": (credit_code or "").strip().upper()[:18],
    }
    report = None
    matches: list[DuplicateMatch] = []
    # No savepoint: on a database error the caller's transaction is abandoned anyway.
    with transaction.atomic(savepoint=False):
        window = _refused_until_later(actor.pk, now, current)
        if not window:
            _lock_user(actor.pk)
            window, count, until = _over_limit(actor.pk, now, current)
            if window:
                _refuse_until(actor.pk, now, until, window, current)
                if _first_refusal(actor.pk, now, window):
                    report = _report(actor, window, count, current[window])
        if window:
            fields.update(refused=True, refused_by=window)
        else:
            matches = find_duplicates(
                name=name, phone=phone, credit_code=credit_code, exclude_id=exclude_id
            )
            fields["matches"] = len(matches)
        _write(fields, report)
    if window:
        raise DuplicateCheckThrottled(limit_message(current), extra={"limits": current})
    return matches


# -- counting ---------------------------------------------------------------------------------


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _window_start(now: datetime, window: str) -> datetime:
    return now - MINUTE if window == "minute" else _day_start(now)


def _over_limit(user_id: int, now: datetime, current: dict[str, int]) -> tuple[str, int, datetime]:
    """The window whose limit this check would exceed, the count including this check, and when
    the refusal may end at the earliest; or ``("", 0, now)``. Only allowed checks count: a
    refused one searched nothing."""
    active = [w for w in WINDOWS if current[w]]
    if not active:
        return "", 0, now
    starts = {w: _window_start(now, w) for w in active}
    counts = DuplicateCheckLog.objects.filter(
        user_id=user_id, refused_by="", created_at__gte=min(starts.values())
    ).aggregate(
        **{
            w: Count("pk", filter=Q(created_at__gt=s) if w == "minute" else Q(created_at__gte=s))
            for w, s in starts.items()
        },
        oldest=Min("created_at", filter=Q(created_at__gt=starts.get("minute", now))),
    )
    for window in active:
        if counts[window] >= current[window]:
            if window == "minute":
                until = (counts["oldest"] or now) + MINUTE  # the oldest check leaves the window
            else:
                until = _day_start(now) + timedelta(days=1)  # Asia/Shanghai has no DST
            return window, counts[window] + 1, until
    return "", 0, now


# A refusal stands until time frees a slot: the other workers can only add checks. Remembering
# it in the cache spares a flood of refused requests the count (each still logs its row). Only a
# shortcut (the decision is the database's), so a per-process LocMemCache is good enough.
def _refusal_key(user_id: int) -> str:
    return f"kehu:dupcheck:refused:{user_id}"


def _refuse_until(
    user_id: int, now: datetime, until: datetime, window: str, current: dict[str, int]
) -> None:
    seconds = (until - now).total_seconds()
    if seconds > 0:
        value = (until.timestamp(), window, current["minute"], current["day"])
        cache.set(_refusal_key(user_id), value, timeout=seconds + 1)


def _refused_until_later(user_id: int, now: datetime, current: dict[str, int]) -> str:
    """The window of a remembered refusal still standing (same limits), or ""."""
    value = cache.get(_refusal_key(user_id))
    if not value:
        return ""
    until, window, minute, day = value
    if (minute, day) != (current["minute"], current["day"]) or now.timestamp() >= until:
        return ""
    return window


def _first_refusal(user_id: int, now: datetime, window: str) -> bool:
    start = _window_start(now, window)
    since = Q(created_at__gt=start) if window == "minute" else Q(created_at__gte=start)
    return not DuplicateCheckLog.objects.filter(since, user_id=user_id, refused_by=window).exists()


def _lock_user(user_id: int) -> None:
    """Serialise one user's checks until the transaction ends (SQLite: its one writer already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, user_id & 0x7FFFFFFF]
            )


# -- logging and reporting --------------------------------------------------------------------


def _report(actor, window: str, count: int, limit: int) -> dict[str, Any]:
    span = "一分钟内" if window == "minute" else "今天"
    return {
        "actor": actor,
        "message": f"查重过于频繁：{actor.username} {span} {count} 次",
        "after": {"window": window, "count": count, "limit": limit},
    }


def _write(fields: dict[str, Any], report: dict[str, Any] | None) -> DuplicateCheckLog:
    row = DuplicateCheckLog.objects.create(**fields)
    if report:
        # Action choices are audit's; a new row (the refused check) is a CREATE. Admins read
        # everything; the user reads it as their own action (audit.selectors.changelog_list).
        record_change(
            actor=report["actor"],
            action=Action.CREATE,
            obj=row,
            object_repr=f"查重过于频繁：{report['actor'].username}",
            after={"source": row.source, **report["after"]},
            message=report["message"],
        )
    return row
