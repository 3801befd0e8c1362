"""产品 in and out of the API, derived from the model (django-ninja ``ModelSchema``).

Money goes out as text with two decimals (``"100000.00"``) and comes in as text or a number;
``services.product_save`` checks it (and every other field), so the messages are the pages'."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import ModelSchema
from pydantic import Field

from kehu.core.money import money_json

from .models import Product
from .services import PRODUCT_FIELDS

MONEY_DOC = '金额："100000.00" 或数字，不小于0，最多两位小数'


class ProductChoice(ModelSchema):
    """One option of the 产品 picker: ``text`` is what the picker shows ("3吨柴油叉车 CPCD30")."""

    text: str
    category_label: str
    list_price: str = Field(description=MONEY_DOC)

    class Meta:
        model = Product
        fields = ["id", "name", "spec", "brand", "category", "unit", "list_price"]

    @staticmethod
    def resolve_text(obj: Product) -> str:
        return str(obj)

    @staticmethod
    def resolve_category_label(obj: Product) -> str:
        return str(obj.get_category_display())

    @staticmethod
    def resolve_list_price(obj: Product) -> str:
        return money_json(obj.list_price)


class ProductOut(ProductChoice):
    is_active: bool
    remark: str
    created_at: datetime
    updated_at: datetime


class ProductIn(ModelSchema):
    list_price: Decimal | str | None = Field(None, description=MONEY_DOC)

    class Meta:
        model = Product
        fields = list(PRODUCT_FIELDS)


class ProductPatch(ModelSchema):
    list_price: Decimal | str | None = Field(None, description=MONEY_DOC)

    class Meta:
        model = Product
        fields = list(PRODUCT_FIELDS)
        fields_optional = "__all__"


def product_choice(product: Product) -> dict:
    return ProductChoice.from_orm(product).model_dump()
