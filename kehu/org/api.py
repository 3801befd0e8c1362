from __future__ import annotations

from django.contrib.auth import authenticate, user_logged_in
from django.db.models import Q
from ninja import Router
from ninja.responses import Status

from kehu.core.api import Page, paginate

from . import selectors
from .auth import issue_token
from .schemas import DepartmentNode, ErrorOut, MeOut, TokenIn, TokenOut, UserOut

router = Router(tags=["组织与认证"])


@router.post(
    "/auth/token", auth=None, response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut}
)
def obtain_token(request, payload: TokenIn):
    """Exchange username and password for a Bearer token (failed attempts are throttled)."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        return Status(401, {"detail": "用户名或密码错误", "errors": {}})
    # A successful sign-in, as on the login page: resets the throttle's failure count (axes)
    # and records last_login, without opening a session.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return Status(200, {"token": issue_token(user)})


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
