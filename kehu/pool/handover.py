"""离职交接 (SPEC §3): deactivating an employee hands everything they own on, in one step."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import change_entry, record_change, record_changes
from kehu.core import memo
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Customer, CustomerShare
from kehu.org.models import User

from . import rules


@transaction.atomic
def handover_user(
    *, actor: User, user: User, successor: User | None, customers_to_pool: bool = False
) -> dict[str, int]:
    """Deactivate ``user``; its customers go to ``successor`` (or to the pool), its leads to the
    successor. The handed customers' shares end (logged per customer, like any owner change),
    and the shares the user received are dropped. Returns a summary of what moved."""
    if not actor.is_admin:
        raise Forbidden("只有管理员可以办理离职交接")
    if user.pk == actor.pk:
        raise ApplicationError("不能为自己办理离职交接")
    if successor is not None and (successor.pk == user.pk or not successor.is_active):
        raise ApplicationError("接手人无效", errors={"successor": ["请选择另一名在职员工"]})
    from kehu.sales.models import Lead, LeadStatus

    customers = list(
        Customer.objects.select_for_update().filter(owner=user).values_list("pk", "name")
    )
    leads = Lead.objects.filter(owner=user, status=LeadStatus.FOLLOWING)
    if successor is None and (leads.exists() or (customers and not customers_to_pool)):
        raise ApplicationError(
            "请选择接手人",
            errors={"successor": ["该员工还有客户或线索，需要指定接手人（客户也可放入公海）"]},
        )
    now = timezone.now()
    ids = [pk for pk, _ in customers]
    if customers_to_pool:
        fields = rules.into_pool(user, now)
        pool = fields["pool"]
        Customer.objects.filter(pk__in=ids).update(**fields)
        action, after = Action.TO_POOL, {"owner": None, "pool": pool.name}
    else:
        Customer.objects.filter(pk__in=ids).update(
            owner=successor,
            previous_owner=user,
            claimed_at=now,
            is_locked=False,
            version=F("version") + 1,
        )
        rules.refresh_return_due(ids)
        action, after = Action.TRANSFER, {"owner": successor.display_name}
    message = f"离职交接：{user.display_name}"
    entries = [
        change_entry(
            actor=actor,
            action=action,
            object_type="customers.customer",
            object_id=pk,
            object_repr=name,
            before={"owner": user.display_name},
            after=after,
            message=message,
        )
        for pk, name in customers
    ]
    # The handed customers' shares were the leaving owner's choice: they end (SPEC §1).
    entries += rules.end_shares(actor=actor, customers=dict(customers))
    record_changes(entries)
    moved_leads = leads.update(owner=successor) if successor else 0
    # Shares the leaving user received go too (nobody reads through a deactivated account).
    shares = CustomerShare.objects.filter(user=user).delete()[0]
    memo.clear()
    user.is_active = False
    user.save(update_fields=["is_active"])
    summary = {"customers": len(ids), "leads": moved_leads, "shares": shares}
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=user,
        before={"is_active": True},
        after={
            "is_active": False,
            **summary,
            "successor": successor.pk if successor else None,
            "customers_to_pool": customers_to_pool,
        },
        message=f"离职交接：客户{len(ids)}个{'放入公海' if customers_to_pool else '转给接手人'}，线索{moved_leads}条",
    )
    return summary
