"""Authentication: session or Bearer token on the API; the login-throttle lockout response."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken, User

LOCKOUT_MESSAGE = "登录失败次数过多，账号已被临时锁定，请15分钟后再试"


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token:
            return None
        row = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash(token), user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and user.is_active:
            return user
        return None


api_auth = [BearerTokenAuth(), ActiveSessionAuth()]


def issue_token(user: User) -> str:
    """Create a new API token for ``user``; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])
    return raw


def lockout_response(request, credentials=None, *args, **kwargs):
    """django-axes lockout: JSON for the API, the login page with a message otherwise."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKOUT_MESSAGE, "errors": {}, "code": "locked"}, status=429)
    from django.contrib.auth.forms import AuthenticationForm

    form = AuthenticationForm(request)
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": LOCKOUT_MESSAGE},
        status=429,
    )
