"""Authentication: session or Bearer token on the API; the login-throttle lockout response."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from kehu.core.errors import ApplicationError

from .models import ApiToken, User

LOCKOUT_MESSAGE = "登录失败次数过多，账号已被临时锁定，请15分钟后再试"


TOKEN_EXPIRED_MESSAGE = "令牌已过期，请重新获取"
TOKEN_INVALID_MESSAGE = "令牌无效"
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = 60


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: a live token of an active user. A token that is
    expired answers 401 "令牌已过期，请重新获取"; an unknown, revoked (deleted) one or one of a
    deactivated user 401 "令牌无效" — whatever session cookie comes along."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token:
            return None
        row = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash(token), user__is_active=True)
            .first()
        )
        if row is None:
            raise ApplicationError(TOKEN_INVALID_MESSAGE, code="token_invalid", status=401)
        now = timezone.now()
        if row.expires_at <= now:
            raise ApplicationError(TOKEN_EXPIRED_MESSAGE, code="token_expired", status=401)
        if (
            row.last_used_at is None
            or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION
        ):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        request.api_token = row  # POST /api/v1/auth/logout revokes this one
        return row.user


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and user.is_active:
            return user
        return None


api_auth = [BearerTokenAuth(), ActiveSessionAuth()]


def issue_token(user: User, name: str = "") -> str:
    """Create a new API token for ``user``; only its hash is stored (services.token_issue)."""
    from .services import token_issue

    return token_issue(user=user, name=name)[1]


def lockout_response(request, credentials=None, *args, **kwargs):
    """django-axes lockout: JSON for the API, the login page with a message otherwise.

    The message says whether the account or the whole address is locked (login_protection)."""
    message = getattr(request, "kehu_lockout_message", LOCKOUT_MESSAGE)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": {}, "code": "locked"}, status=429)
    from django.contrib.auth.forms import AuthenticationForm

    form = AuthenticationForm(request)
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message},
        status=429,
    )
