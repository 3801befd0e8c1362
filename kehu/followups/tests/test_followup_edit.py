"""Correcting a follow-up (issue 14.15): its author (or an admin) edits it in the UI or with
PATCH /api/v1/followups/{id}; the change is logged and the customer's 最后跟进 / 下次跟进 follow."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.audit.models import Action, ChangeLog
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Customer
from kehu.followups.models import FollowUp
from kehu.followups.services import followup_create, followup_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client(org):
    from django.test import Client

    from kehu.org.auth import issue_token

    def make(username: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {issue_token(org[username])}"})

    return make


@pytest.fixture
def followup(org, make_customer):
    customer = make_customer("sales1", name="跟进修改客户")
    return followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "电话沟通",
            "next_followup_at": timezone.now() + timedelta(days=2),
        },
    )


def data_of(followup, **changes):
    return {
        "content": followup.content,
        "followed_at": followup.followed_at,
        "next_followup_at": followup.next_followup_at,
        **changes,
    }


def test_author_corrects_and_the_change_is_logged(org, followup):
    later = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    followup_update(
        actor=org["sales1"],
        followup=followup,
        data=data_of(followup, content="上门拜访，需要3吨叉车", next_followup_at=later),
    )
    followup.refresh_from_db()
    assert followup.content == "上门拜访，需要3吨叉车"
    customer = Customer.objects.get(pk=followup.customer_id)
    assert customer.next_followup_at == later
    log = ChangeLog.objects.filter(action=Action.UPDATE, object_id=followup.pk).latest("id")
    assert log.actor == org["sales1"]
    assert "content" in json.dumps(log.changes, ensure_ascii=False)
    assert "上门拜访" in json.dumps(log.changes, ensure_ascii=False)


def test_only_the_author_or_an_admin_may_correct(org, followup):
    with pytest.raises(Forbidden) as exc:
        followup_update(actor=org["manager1"], followup=followup, data=data_of(followup))
    assert exc.value.message == "只能修改自己的跟进记录"
    followup_update(actor=org["admin"], followup=followup, data=data_of(followup, content="改"))
    assert FollowUp.objects.get(pk=followup.pk).content == "改"


def test_bad_correction_says_why_and_changes_nothing(org, followup):
    logs = ChangeLog.objects.count()
    with pytest.raises(ApplicationError) as exc:
        followup_update(
            actor=org["sales1"],
            followup=followup,
            data=data_of(followup, content="  ", next_followup_at=followup.followed_at),
        )
    assert exc.value.errors["content"] == ["请填写跟进内容"]
    assert exc.value.errors["next_followup_at"] == ["下次跟进时间应晚于本次跟进时间"]
    assert FollowUp.objects.get(pk=followup.pk).content == "电话沟通"
    assert ChangeLog.objects.count() == logs


def test_patch_api(org, followup, api_client):
    url = f"/api/v1/followups/{followup.pk}"
    response = api_client("sales1").patch(
        url, json.dumps({"content": "微信沟通"}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["content"] == "微信沟通"
    # the fields not sent keep their values
    assert response.json()["next_followup_at"] is not None
    refused = api_client("sales2").patch(
        url, json.dumps({"content": "别人改"}), content_type="application/json"
    )
    assert refused.status_code in (403, 404)
    bad = api_client("sales1").patch(
        url, json.dumps({"content": ""}), content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["errors"]["content"] == ["请填写跟进内容"]
    assert FollowUp.objects.get(pk=followup.pk).content == "微信沟通"


def test_edit_in_the_ui(org, followup, client_for):
    client = client_for("sales1")
    listing = client.get("/followups/").content.decode()
    assert f"/followups/{followup.pk}/edit/" in listing
    assert (
        f"/followups/{followup.pk}/edit/"
        not in client_for("manager1").get("/followups/").content.decode()
    )
    form = client.get(f"/followups/{followup.pk}/edit/", HTTP_HX_REQUEST="true")
    assert "编辑跟进记录" in form.content.decode() and "电话沟通" in form.content.decode()
    local = timezone.localtime(followup.followed_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/followups/{followup.pk}/edit/",
        {"content": "改成上门拜访", "followed_at": local},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert FollowUp.objects.get(pk=followup.pk).content == "改成上门拜访"
    assert client_for("manager1").get(f"/followups/{followup.pk}/edit/").status_code == 403
