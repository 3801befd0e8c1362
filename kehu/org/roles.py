"""The built-in roles of SPEC §1, kept in step by a post_migrate hook (idempotent).

Permission names that belong to apps not installed yet are skipped, so each later app only
has to add its permission names here.
"""

from __future__ import annotations

from .models import DataScope

SALES_PERMS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.delete_customer",
    "customers.view_contact",
    "customers.add_contact",
    "customers.change_contact",
    "customers.delete_contact",
    "customers.view_pool",
    "customers.claim_customer",
    "customers.release_customer",
    "customers.share_customer",
    "customers.export_customer",
    "customers.import_customer",
    "followups.view_followup",
    "followups.add_followup",
    "followups.change_followup",
    "followups.delete_followup",
    "sales.view_lead",
    "sales.add_lead",
    "sales.change_lead",
    "sales.delete_lead",
    "sales.view_opportunity",
    "sales.add_opportunity",
    "sales.change_opportunity",
    "sales.delete_opportunity",
    "sales.view_quote",
    "sales.add_quote",
    "sales.change_quote",
    "sales.delete_quote",
    "sales.view_contract",
    "sales.add_contract",
    "sales.change_contract",
    "sales.delete_contract",
    "sales.view_payment",
    "sales.add_payment",
    "sales.change_payment",
    "sales.delete_payment",
    "sales.view_paymentplan",
    "sales.add_paymentplan",
    "sales.change_paymentplan",
    "sales.delete_paymentplan",
    "aftersales.view_vehicle",
    "aftersales.view_repairorder",
    "aftersales.view_maintenanceorder",
    # 挂账订单 of their customers' orders (the voucher is uploaded by whoever collects it)
    "aftersales.view_onaccountorder",
    "aftersales.add_onaccountorder",
    "aftersales.change_onaccountorder",
    "aftersales.delete_onaccountorder",
    # 验收 of a service order of their own customers (kehu/aftersales/flow.py)
    "aftersales.accept_repairorder",
    "aftersales.accept_maintenanceorder",
    "basics.view_product",
    # 回收站: their own customers' deleted records (the data scope decides whose)
    "recyclebin.view_recycleentry",
    "recyclebin.restore_recycleentry",
]

BUILTIN_ROLES = {
    "admin": {"name": "系统管理员", "data_scope": DataScope.ALL, "is_admin": True, "perms": []},
    "sales_manager": {
        "name": "销售经理",
        "data_scope": DataScope.DEPT_AND_BELOW,
        "perms": SALES_PERMS
        + [
            "customers.transfer_customer",
            "customers.merge_customer",
            "sales.approve_document",
            "sales.void_document",
        ],
    },
    "salesperson": {"name": "业务员", "data_scope": DataScope.SELF, "perms": SALES_PERMS},
    "after_sales": {
        "name": "售后",
        "data_scope": DataScope.SELF,
        "perms": [
            # read-only customer data, full after-sales documents (SPEC §13)
            "customers.view_customer",
            "customers.view_contact",
            "sales.view_contract",  # the 关联合同 of a vehicle
            "aftersales.view_vehicle",
            "aftersales.add_vehicle",
            "aftersales.change_vehicle",
            "aftersales.delete_vehicle",
            "aftersales.view_repairorder",
            "aftersales.add_repairorder",
            "aftersales.change_repairorder",
            "aftersales.delete_repairorder",
            "aftersales.accept_repairorder",
            "aftersales.view_maintenanceorder",
            "aftersales.add_maintenanceorder",
            "aftersales.change_maintenanceorder",
            "aftersales.delete_maintenanceorder",
            "aftersales.accept_maintenanceorder",
            "aftersales.view_onaccountorder",
            "aftersales.add_onaccountorder",
            "aftersales.change_onaccountorder",
            "aftersales.delete_onaccountorder",
        ],
    },
    "finance": {
        "name": "财务",
        "data_scope": DataScope.ALL,
        "perms": [
            "customers.view_customer",
            "customers.view_contact",
            "sales.view_contract",
            "sales.view_payment",
            "sales.view_paymentplan",
            "sales.approve_document",
            "sales.void_document",
            "aftersales.view_onaccountorder",
            # 支付审批 of 挂账订单 (SPEC §13: payments and on-account orders → 财务); the orders
            # they pay are read-only to 财务
            "aftersales.approve_document",
            "aftersales.void_document",
            "aftersales.view_repairorder",
            "aftersales.view_maintenanceorder",
            "basics.view_product",
        ],
    },
}


def sync_builtin_roles(**kwargs) -> None:
    from django.contrib.auth.models import Permission

    from .models import Role

    perms_by_name = {
        f"{app}.{code}": pk
        for pk, app, code in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for code, spec in BUILTIN_ROLES.items():
        role, _ = Role.objects.get_or_create(
            code=code,
            defaults={
                "name": spec["name"],
                "data_scope": spec["data_scope"],
                "is_admin": spec.get("is_admin", False),
                "is_builtin": True,
            },
        )
        wanted = [perms_by_name[p] for p in spec["perms"] if p in perms_by_name]
        if wanted:
            role.permissions.add(*wanted)
