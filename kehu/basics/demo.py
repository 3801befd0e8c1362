"""Demo products (SPEC §11, §13): a forklift dealer's price list — new trucks, used ones, monthly
rentals and the parts the workshop sells. Idempotent: a product already there (same name and
spec) is left as it is."""

from __future__ import annotations

from decimal import Decimal

from .models import Product, ProductCategory
from .services import product_save

V, P, U, L = (
    ProductCategory.VEHICLE,
    ProductCategory.PARTS,
    ProductCategory.USED_VEHICLE,
    ProductCategory.LEASE,
)

# (name, spec, category, brand, unit, list price, remark)
PRODUCTS = [
    ("3吨柴油叉车", "CPCD30", V, "杭叉", "台", "100000.00", "国四排放，标配3米门架"),
    ("3.5吨柴油叉车", "CPCD35", V, "合力", "台", "118000.00", "国四排放"),
    ("5吨柴油叉车", "CPCD50", V, "龙工", "台", "165000.00", ""),
    ("2吨电动叉车", "CPD20", V, "杭叉", "台", "128000.00", "锂电版，含充电机"),
    ("1.5吨电动堆高车", "CDD15", V, "合力", "台", "46000.00", "起升高度3.3米"),
    ("2吨电动搬运车", "CBD20", V, "龙工", "台", "18500.00", ""),
    ("二手3吨叉车", "CPCD30（2019款）", U, "杭叉", "台", "52000.00", "整备后出售，保修3个月"),
    ("叉车月租 3吨", "CPCD30", L, "杭叉", "月", "4500.00", "含保养，不含司机"),
    ("实心轮胎", "28x9-15", P, "正新", "条", "1350.00", "3吨叉车前轮"),
    ("货叉", "1220mm 3吨级", P, "合力", "副", "2600.00", ""),
    ("叉车蓄电池", "48V 500Ah", P, "天能", "组", "26800.00", "电动叉车用"),
    ("滤芯套装", "CPCD30 保养用", P, "杭叉", "套", "380.00", "机油滤、柴油滤、空气滤各一"),
]


def seed(users) -> None:
    actor = users["admin"]
    existing = set(Product.objects.values_list("name", "spec"))
    for name, spec, category, brand, unit, price, remark in PRODUCTS:
        if (name, spec) in existing:
            continue
        product_save(
            actor=actor,
            instance=None,
            data={
                "name": name,
                "spec": spec,
                "category": category,
                "brand": brand,
                "unit": unit,
                "list_price": Decimal(price),
                "remark": remark,
            },
        )
