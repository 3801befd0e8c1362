from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound
from kehu.org.scope import subordinates_of, visible_q

from .models import Lead

TABS = {"all": "全部线索", "mine": "我的线索", "subordinates": "下属线索"}


def visible_leads(user) -> QuerySet[Lead]:
    return Lead.objects.filter(visible_q(user, owner_field="owner"))


def lead_list(*, user, tab: str = "all") -> QuerySet[Lead]:
    qs = visible_leads(user)
    if tab == "mine":
        qs = qs.filter(owner_id=user.pk)
    elif tab == "subordinates":
        qs = qs.filter(owner_id__in=list(subordinates_of(user).values_list("id", flat=True)))
    return qs.select_related("owner", "creator", "source", "customer")


def lead_get(*, user, pk: int) -> Lead:
    lead = lead_list(user=user).filter(pk=pk).first()
    if lead is None:
        raise NotFound("线索不存在或无权查看")
    return lead
