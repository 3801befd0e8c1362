"""/api/v1/customers — the same selectors, services, filters and masking as the web pages."""

from __future__ import annotations

from django.http import QueryDict
from ninja import File, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from kehu.core.api import Page, paginate
from kehu.core.api_jobs import BatchJobOut, MatchingIn
from kehu.core.errors import ApplicationError
from kehu.core.jobs import job_dict, start_job
from kehu.core.money import money_json
from kehu.org.authz import authorize
from kehu.org.models import User

from . import masking, selectors, services, throttle
from .filters import CustomerFilterSet
from .models import Customer, DuplicateCheckSource
from .schemas import (
    BatchOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    DuplicateCheckIn,
    DuplicateCheckOut,
    ErrorOut,
    IdsIn,
    ShareIn,
    ShareOut,
)

router = Router(tags=["客户"])

ORDERING = {
    "name",
    "created_at",
    "next_followup_at",
    "receivable_total",
    "id",
    "updated_at",
    "pool_return_at",
    "pooled_at",
}
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _ref(obj):
    if obj is None:
        return None
    return {"id": obj.pk, "name": getattr(obj, "display_name", None) or obj.name}


def customer_out(c) -> dict:
    """One customer as the API shows it; contact data through ``masking``."""
    data = {
        f: getattr(c, f)
        for f in (
            "id",
            "name",
            "legal_person",
            "credit_code",
            "bank_name",
            "bank_account",
            "products",
            "raw_materials",
            "address",
            "longitude",
            "latitude",
            "contact_name",
            "next_followup_at",
            "last_followup_at",
            "remark",
            "status",
            "created_at",
            "updated_at",
            "version",
        )
    }
    data.update(
        province=c.province_id,
        city=c.city_id,
        district=c.district_id,
        industry=_ref(c.industry),
        level=_ref(c.level),
        source=_ref(c.source),
        referrer=_ref(c.referrer),
        owner=_ref(c.owner),
        creator=_ref(c.creator),
        tags=[_ref(t) for t in c.tags.all()],
        in_pool=c.owner_id is None,
        contact_phone=masking.customer_phone(c),
    )
    for kind in ("vehicle", "parts", "used_vehicle", "lease", "repair", "maintenance", "total"):
        data[f"receivable_{kind}"] = money_json(getattr(c, f"receivable_{kind}"))
    return data


def _service_data(payload, *, partial: bool) -> dict:
    raw = payload.dict(exclude_unset=partial)
    raw.pop("confirm_duplicates", None)
    raw.pop("version", None)
    data = dict(raw)
    for field in ("industry", "level", "source"):
        if field in data and data[field] is not None:
            data[field] = str(data[field])  # validated (exists, right kind, enabled) by the service
    if "tags" in data:
        data["tags"] = [str(t) for t in (data["tags"] or [])]
    if "referrer" in data and data["referrer"] is not None:
        user = User.objects.filter(pk=data["referrer"], is_active=True).first()
        if user is None:
            raise ApplicationError("推荐人不存在", errors={"referrer": ["推荐人不存在或已停用"]})
        data["referrer"] = user
    return data


def _ordering(value: str | None) -> list[str]:
    if not value:
        return ["-created_at", "-id"]
    fields = []
    for part in value.split(","):
        name = part.strip().lstrip("-")
        if name not in ORDERING:
            raise ApplicationError(
                f"不支持的排序字段：{name}", errors={"ordering": [f"不支持的排序字段：{name}"]}
            )
        fields.append(part.strip())
    return [*fields, "-id"]


def filtered_customers(request, queryset):
    """The list page's FilterSet over the API's query string (same names as the search panel)."""
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key not in {"page", "page_size", "ordering", "tab", "cursor"}:
            params.setlist(key, values)
    filterset = CustomerFilterSet(params, queryset=queryset, request=request)
    if not filterset.is_valid():
        errors = {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        raise ApplicationError("筛选条件有误", errors=errors)
    return filterset.qs


@router.get("/customers", response={200: Page[CustomerOut], **ERRORS})
def list_customers(
    request,
    tab: str = "all",
    ordering: str | None = None,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    """客户列表: `tab=all|mine|subordinates|shared_by_me|shared_with_me` and the search filters
    (`q`: 客户名称、联系人、联系电话或统一社会信用代码). `count` is exact up to the cap, else an
    estimate (`count_exact: false`); `next_cursor`, passed back as `cursor`, walks the list."""
    authorize(request.user, "view", Customer)
    if tab not in selectors.TABS:
        raise ApplicationError(
            "未知的标签页", errors={"tab": [f"可选：{', '.join(selectors.TABS)}"]}
        )
    qs = filtered_customers(request, selectors.customer_list(user=request.user, tab=tab))
    return paginate(
        qs.order_by(*_ordering(ordering)),
        page,
        page_size,
        customer_out,
        cursor=cursor,
        walkable=True,
    )


@router.post("/customers", response={201: CustomerOut, **ERRORS})
def create_customer(request, payload: CustomerIn):
    authorize(request.user, "add", Customer)
    customer = services.customer_create(
        actor=request.user,
        data=_service_data(payload, partial=False),
        confirm_duplicates=payload.confirm_duplicates,
    )
    return Status(201, customer_out(selectors.customer_get(user=request.user, pk=customer.pk)))


@router.get("/customers/{int:customer_id}", response={200: CustomerOut, **ERRORS})
def get_customer(request, customer_id: int):
    """One customer: a private one the user sees, or a pool customer of a pool the user browses
    (`in_pool: true`, contact data masked, as on its page)."""
    from kehu.pool.selectors import customer_or_pool_get

    authorize(request.user, "view", Customer)
    return customer_out(customer_or_pool_get(user=request.user, pk=customer_id)[0])


@router.patch("/customers/{int:customer_id}", response={200: CustomerOut, 409: ErrorOut, **ERRORS})
def update_customer(request, customer_id: int, payload: CustomerPatch):
    authorize(request.user, "change", Customer)
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    services.customer_update(
        actor=request.user,
        customer=customer,
        data=_service_data(payload, partial=True),
        version=payload.version,
        confirm_duplicates=payload.confirm_duplicates,
        partial=True,
    )
    return customer_out(selectors.customer_get(user=request.user, pk=customer_id))


@router.delete("/customers/{int:customer_id}", response={204: None, **ERRORS})
def delete_customer(request, customer_id: int):
    authorize(request.user, "delete", Customer)
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    services.customer_delete(actor=request.user, customer=customer)
    return Status(204, None)


@router.post("/customers/batch-delete", response={200: BatchOut, **ERRORS})
def batch_delete(request, payload: IdsIn):
    """At most ``KEHU_BATCH_MAX_IDS`` (500) ids; more: `/customers/batch-delete-matching`."""
    return services.customers_batch_delete(actor=request.user, ids=payload.ids).as_dict()


@router.post(
    "/customers/batch-delete-matching",
    response={202: BatchJobOut, **ERRORS, 409: ErrorOut},
)
def batch_delete_matching(request, payload: MatchingIn):
    """全部符合条件的记录: delete every customer the list shows for `tab` and `filters` (the
    list's query-string names), as a background job; follow it at `/batch-jobs/{id}`."""
    job = start_job(actor=request.user, action_key="customers.delete", params=payload.params())
    return Status(202, job_dict(job))


@router.post(
    "/customers/duplicate-check", response={200: DuplicateCheckOut, 429: ErrorOut, **ERRORS}
)
def duplicate_check(request, payload: DuplicateCheckIn):
    """Anybody may ask; the answer shows only name, owner (or pool), status and created date.
    Within the user's 查重 quota (SPEC §13): beyond it 429 with a Chinese message."""
    if not any((v or "").strip() for v in (payload.name, payload.phone, payload.credit_code)):
        raise ApplicationError("请输入客户名称、联系电话或统一社会信用代码")
    matches = throttle.duplicate_check(
        actor=request.user,
        source=DuplicateCheckSource.API,
        name=payload.name,
        phone=payload.phone,
        credit_code=payload.credit_code,
    )
    return {"matches": [m.as_public_dict() for m in matches]}


@router.post("/customers/{int:customer_id}/share", response={200: ShareOut, **ERRORS})
def share_customer(request, customer_id: int, payload: ShareIn):
    authorize(request.user, "share", Customer)
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    users = services.customer_share(
        actor=request.user, customer=customer, user_ids=payload.user_ids
    )
    return {"user_ids": sorted(u.pk for u in users)}


@router.get("/customers/{int:customer_id}/portrait", response={200: dict, **ERRORS})
def customer_portrait(request, customer_id: int):
    """客户画像 summary (SPEC §7): 总消费金额, 下单次数, 待收款金额 and per kind, contract and
    payment figures, last/next follow-up — from the ledger's sources (voided/cancelled left out)."""
    from kehu.pool.selectors import customer_or_pool_get

    from .portrait import portrait_summary, summary_json

    authorize(request.user, "view", Customer)
    customer, in_pool = customer_or_pool_get(user=request.user, pk=customer_id)
    return {"id": customer.pk, "in_pool": in_pool, **summary_json(portrait_summary(customer))}


@router.get("/customers/{int:customer_id}/yoy", response={200: dict, **ERRORS})
def customer_yoy(request, customer_id: int):
    """同比增幅 (SPEC §7, §10.1): ``from``, ``to`` (default this year to date), ``compare_from``,
    ``compare_to`` (default the same days a year earlier), or ``pick=month|quarter|year`` →
    per kind amount, count and growth in % (null when the compared period is 0), totals and
    the monthly trend of the two years."""
    from kehu.pool.selectors import customer_or_pool_get

    from .portrait import customer_yoy as compute
    from .portrait import parse_periods, yoy_json

    authorize(request.user, "view", Customer)
    customer, _in_pool = customer_or_pool_get(user=request.user, pk=customer_id)
    period, compare, _pick = parse_periods(request.GET)
    return yoy_json(compute(customer, period=period, compare=compare))


@router.post("/customers/{int:customer_id}/attachments", response={201: dict, **ERRORS})
def upload_attachment(request, customer_id: int, file: File[UploadedFile]):
    authorize(request.user, "change", Customer)
    customer = selectors.customer_get(user=request.user, pk=customer_id)
    (attachment,) = services.customer_attach(actor=request.user, customer=customer, files=[file])
    return Status(
        201, {"id": attachment.pk, "name": attachment.original_name, "size": attachment.size}
    )
