"""The demo organisation of SPEC §11 — always the same, tests and demos rely on it."""

from __future__ import annotations

from .models import Department, Role, User

DEMO_PASSWORD = "demo1234"

# username: (name, department, role code, superuser)
DEMO_USERS = {
    "admin": ("系统管理员", "总经办", "admin", True),
    "manager1": ("王经理", "销售部", "sales_manager", False),
    "sales1": ("李业务", "销售一部", "salesperson", False),
    "sales2": ("张业务", "销售一部", "salesperson", False),
    "sales3": ("赵业务", "销售二部", "salesperson", False),
    "service1": ("陈售后", "售后部", "after_sales", False),
    "finance1": ("刘财务", "财务部", "finance", False),
}


def seed() -> dict[str, User]:
    from .roles import sync_builtin_roles

    sync_builtin_roles()
    head, _ = Department.objects.get_or_create(name="总经办", parent=None, defaults={"sort": 1})
    sales, _ = Department.objects.get_or_create(name="销售部", parent=None, defaults={"sort": 2})
    depts = {
        "总经办": head,
        "销售部": sales,
        "销售一部": Department.objects.get_or_create(
            name="销售一部", parent=sales, defaults={"sort": 1}
        )[0],
        "销售二部": Department.objects.get_or_create(
            name="销售二部", parent=sales, defaults={"sort": 2}
        )[0],
        "售后部": Department.objects.get_or_create(
            name="售后部", parent=None, defaults={"sort": 3}
        )[0],
        "财务部": Department.objects.get_or_create(
            name="财务部", parent=None, defaults={"sort": 4}
        )[0],
    }
    users: dict[str, User] = {}
    for i, (username, (name, dept, role_code, superuser)) in enumerate(DEMO_USERS.items(), start=1):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "name": name,
                "department": depts[dept],
                "is_superuser": superuser,
                "is_staff": superuser,
                "mobile": f"1390000{i:04d}",
                "email": f"{username}@demo.kehu.cn",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.roles.add(Role.objects.get(code=role_code))
        users[username] = user
    sales.leader = users["manager1"]
    sales.save(update_fields=["leader"])
    head.leader = users["admin"]
    head.save(update_fields=["leader"])
    return users
