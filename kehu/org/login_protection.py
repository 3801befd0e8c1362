"""Login throttle (django-axes) with two limits: per username + address, and per address.

``AXES_LOCKOUT_PARAMETERS`` lists both groups, ``[["username", "ip_address"], "ip_address"]``,
but axes compares every group with the one ``AXES_FAILURE_LIMIT``. This handler gives the
address-only group its own, higher limit (``KEHU_LOGIN_ADDRESS_FAILURE_LIMIT``, default 20 per
``AXES_COOLOFF_TIME``), so that one address guessing across many usernames is refused for any
username, while a user who mistypes locks only themselves at that address (after 5).

A successful sign-in clears only that user's failures at that address (also from the address
count) — not the address's failures on other usernames, which an attacker with one valid
account could otherwise wipe between rounds of guessing.

The client address comes from ``kehu.core.client_ip`` (``AXES_CLIENT_IP_CALLABLE``).
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum

ADDRESS = "ip_address"
ADDRESS_LOCKOUT_MESSAGE = "登录失败次数过多，当前网络地址已被临时锁定，请15分钟后再试"


def address_failure_limit() -> int:
    return int(getattr(settings, "KEHU_LOGIN_ADDRESS_FAILURE_LIMIT", 20))


class LoginThrottleHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The failures axes compares with ``AXES_FAILURE_LIMIT``: the worst username + address
        count, or — once the address as a whole is over its own limit — at least that limit."""
        groups = get_lockout_parameters(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        worst = 0
        for group, attempts in zip(groups, attempts_list, strict=True):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if group == ADDRESS:
                limit = address_failure_limit()
                if limit and count >= limit:
                    request.kehu_lockout_message = ADDRESS_LOCKOUT_MESSAGE
                    return max(count, get_failure_limit(request, credentials))
                continue
            worst = max(worst, count)
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """On success: forget this user's failures (at this address), not the address's."""
        groups = get_lockout_parameters(request, credentials)
        attempts_list = self.filter_user_attempts(request, credentials)
        count = 0
        for group, attempts in zip(groups, attempts_list, strict=True):
            if group != ADDRESS:
                count += attempts.delete()[0]
        return count
