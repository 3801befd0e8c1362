"""/api/v1/products (产品): list/create, /{id} retrieve/update/delete.

The list takes the page's filters (``q`` on name/brand/spec, ``category``, ``is_active``) through
the page's FilterSet, and also serves the line items' picker (``?is_active=true&q=…``)."""

from __future__ import annotations

from ninja import Router
from ninja.responses import Status

from kehu.core.api import Page, paginate
from kehu.core.errors import ApplicationError
from kehu.customers.schemas import ErrorOut
from kehu.org.authz import authorize

from . import selectors, services
from .filters import ProductFilterSet
from .models import Product
from .schemas import ProductIn, ProductOut, ProductPatch

router = Router(tags=["产品"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _out(product: Product) -> Product:
    return product  # ProductOut reads the model (money as "100000.00")


@router.get("/products", response={200: Page[ProductOut], **ERRORS})
def list_products(
    request,
    q: str = "",
    category: str = "",
    is_active: bool | None = None,
    page: int = 1,
    page_size: int = 20,
):
    """Products by category and name; ``category``: vehicle 整车 / parts 配件 / used_vehicle
    二手车 / lease 租赁."""
    authorize(request.user, "view", Product)
    params = {"q": q, "category": category}
    if is_active is not None:
        params["is_active"] = "true" if is_active else "false"
    filterset = ProductFilterSet(params, queryset=selectors.product_list(request.user))
    if not filterset.is_valid():
        errors = {field: [str(m) for m in msgs] for field, msgs in filterset.errors.items()}
        raise ApplicationError("筛选条件无效", errors=errors)
    return paginate(filterset.qs, page, page_size, _out)


@router.post("/products", response={201: ProductOut, **ERRORS})
def create_product(request, payload: ProductIn):
    authorize(request.user, "add", Product)
    product = services.product_save(actor=request.user, instance=None, data=payload.dict())
    return Status(201, _out(product))


@router.get("/products/{int:product_id}", response={200: ProductOut, **ERRORS})
def get_product(request, product_id: int):
    authorize(request.user, "view", Product)
    return _out(selectors.product_get(request.user, product_id))


@router.patch("/products/{int:product_id}", response={200: ProductOut, **ERRORS})
def update_product(request, product_id: int, payload: ProductPatch):
    authorize(request.user, "change", Product)
    product = selectors.product_get(request.user, product_id)
    data = payload.dict(exclude_unset=True)
    return _out(services.product_save(actor=request.user, instance=product, data=data))


@router.delete("/products/{int:product_id}", response={204: None, **ERRORS})
def delete_product(request, product_id: int):
    authorize(request.user, "delete", Product)
    services.product_delete(
        actor=request.user, instance=selectors.product_get(request.user, product_id)
    )
    return Status(204, None)
