"""Pool and ownership API (SPEC §10.1): to-pool, transfer, pool list, claim."""

from __future__ import annotations

from ninja import Router

from kehu.core.api import Page, paginate
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.api import _ordering, customer_out
from kehu.customers.schemas import BatchOut, CustomerOut, ErrorOut

from . import selectors, services
from .filters import PoolCustomerFilterSet
from .schemas import ClaimIn, ToPoolIn, TransferIn

router = Router(tags=["客户公海"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.post("/customers/to-pool", response={200: BatchOut, **ERRORS})
def to_pool(request, payload: ToPoolIn):
    """放入公海 (per customer: owner, someone whose scope covers the owner, or an admin)."""
    if not request.user.has_perm("customers.release_customer"):
        raise Forbidden()
    return services.release_customers(
        actor=request.user, ids=payload.ids, reason=payload.reason or ""
    ).as_dict()


@router.post("/customers/transfer", response={200: BatchOut, **ERRORS})
def transfer(request, payload: TransferIn):
    """转移 to `user_ids` with `allocation` `even` (round-robin) or `random`."""
    return services.transfer_customers(
        actor=request.user,
        ids=payload.ids,
        user_ids=payload.user_ids,
        allocation=payload.allocation,
    ).as_dict()


@router.get("/pool/customers", response={200: Page[CustomerOut], **ERRORS})
def pool_customers(
    request,
    ordering: str | None = None,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    """The pool list, masked, with the customer filters except the masked ones."""
    if not request.user.has_perm("customers.view_pool"):
        raise Forbidden()
    params = request.GET.copy()
    for key in ("page", "page_size", "ordering", "cursor"):
        params.pop(key, None)
    if "phone" in params:
        raise ApplicationError(
            "公海客户不能按联系电话搜索，请使用查重", errors={"phone": ["公海中的联系方式已隐藏"]}
        )
    filterset = PoolCustomerFilterSet(
        params, queryset=selectors.pool_customer_list(user=request.user)
    )
    if not filterset.is_valid():
        raise ApplicationError(
            "筛选条件有误", errors={k: [str(m) for m in v] for k, v in filterset.errors.items()}
        )
    return paginate(
        filterset.qs.order_by(*_ordering(ordering or "-pooled_at")),
        page,
        page_size,
        customer_out,
        cursor=cursor,
        walkable=True,
    )


@router.post("/pool/claim", response={200: BatchOut, **ERRORS})
def claim(request, payload: ClaimIn):
    """领取: exactly one claimer wins; others are refused 已被他人领取."""
    return services.claim_customers(actor=request.user, ids=payload.ids).as_dict()
