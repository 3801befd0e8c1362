from __future__ import annotations

from django.contrib.auth import authenticate, logout, user_logged_in
from django.db.models import Q
from django.utils import timezone
from ninja import Router
from ninja.responses import Status

from kehu.core.api import Page, paginate
from kehu.core.errors import NotFound

from . import selectors, services
from .authz import authorize
from .models import User
from .schemas import (
    DepartmentNode,
    ErrorOut,
    MeOut,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    TokensRevokedOut,
    UserOut,
)

router = Router(tags=["组织与认证"])


@router.post(
    "/auth/token", auth=None, response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut}
)
def obtain_token(request, payload: TokenIn):
    """Exchange username and password for a Bearer token (failed attempts are throttled)."""
    # No session for a token's sign-in: axes would create one for its access log on every
    # attempt, and an API client never sends its cookie back (they piled up in the table).
    session = request.__dict__.pop("session", None)
    try:
        return _obtain_token(request, payload)
    finally:
        if session is not None:
            request.session = session


def _obtain_token(request, payload: TokenIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        return Status(401, {"detail": "用户名或密码错误", "errors": {}})
    # A successful sign-in, as on the login page: resets the throttle's failure count (axes)
    # and records last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    name = services.token_name(payload.name, request.headers.get("User-Agent", ""))
    row, raw = services.token_issue(user=user, name=name)
    return Status(200, {"token": raw, "id": row.pk, "name": row.name, "expires_at": row.expires_at})


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.post("/auth/logout", response={204: None, **ERRORS})
def api_logout(request):
    """Sign out: revokes the token of this request; with the web session, ends the session
    (which, like 退出登录, revokes all of the user's tokens)."""
    token = getattr(request, "api_token", None)
    if token is not None:
        services.token_revoke(actor=request.user, instance=token)
    else:
        logout(request)
    return Status(204, None)


@router.get("/auth/tokens", response={200: Page[TokenInfoOut], **ERRORS})
def list_tokens(request, page: int = 1, page_size: int = 50):
    """The caller's API tokens (我的令牌): name, dates, the first characters; never the token."""
    now = timezone.now()
    current = getattr(getattr(request, "api_token", None), "pk", None)
    return paginate(
        selectors.token_list(user=request.user),
        page,
        page_size,
        lambda t: {
            "id": t.pk,
            "name": t.name,
            "prefix": t.prefix,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "expires_at": t.expires_at,
            "expired": t.expires_at <= now,
            "current": t.pk == current,
        },
    )


@router.delete("/auth/tokens/{int:token_id}", response={204: None, **ERRORS})
def revoke_token(request, token_id: int):
    """Revoke one of the caller's tokens; anybody else's answers 404."""
    token = selectors.token_list(user=request.user).filter(pk=token_id).first()
    if token is None:
        raise NotFound()
    services.token_revoke(actor=request.user, instance=token)
    return Status(204, None)


@router.delete("/users/{int:user_id}/tokens", response={200: TokensRevokedOut, **ERRORS})
def revoke_user_tokens(request, user_id: int):
    """Revoke every token of an employee (who may change employees: 系统设置 › 员工)."""
    authorize(request.user, "change", User)
    user = selectors.user_list().filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return Status(200, {"revoked": services.user_tokens_revoke(actor=request.user, user=user)})


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    dept = user.department
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.display_name,
        "department": {"id": dept.pk, "name": dept.name} if dept else None,
        "roles": list(user.roles.values("id", "code", "name")),
        "data_scope": user.data_scope,
        "is_admin": user.is_admin,
        "permissions": sorted(user.get_all_permissions()),
    }


@router.get("/users", response=Page[UserOut])
def users(
    request, q: str = "", department_id: int | None = None, page: int = 1, page_size: int = 100
):
    """Active users, for pickers."""
    qs = selectors.user_list(active_only=True).order_by("id")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(name__icontains=q))
    if department_id:
        qs = qs.filter(department_id=department_id)
    return paginate(
        qs,
        page,
        page_size,
        lambda u: UserOut(
            id=u.pk,
            username=u.username,
            name=u.display_name,
            department_id=u.department_id,
            department_name=u.department.name if u.department else None,
        ).model_dump(),
    )


@router.get("/departments", response=list[DepartmentNode])
def departments(request):
    """The department tree."""
    return selectors.department_tree_rows()
