"""系统设置 → 审批流程: configuring the steps of a document type (issue 11 point 7)."""

from __future__ import annotations

import pytest

from kehu.core.errors import ApplicationError, Forbidden
from kehu.documents import approval
from kehu.documents.models import ApprovalStep, ApproverKind
from kehu.documents.settings_views import approval_step_save
from kehu.org.models import Role


def test_admin_configures_a_two_step_flow_and_the_engine_follows_it(org):
    finance = Role.objects.get(code="finance")
    approval_step_save(
        actor=org["admin"],
        instance=None,
        data={"doc_type": "quote", "order": 1, "approver_kind": ApproverKind.LEADER},
    )
    approval_step_save(
        actor=org["admin"],
        instance=None,
        data={"doc_type": "quote", "order": 2, "approver_kind": ApproverKind.ROLE, "role": finance},
    )
    steps = approval.flow("quote")
    assert [s.kind for s in steps] == ["leader", "role"] and steps[1].role_name == finance.name
    assert [s.kind for s in approval.flow("contract")] == ["leader"]  # untouched default


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"doc_type": "nonsense", "order": 1, "approver_kind": "leader"}, "doc_type"),
        ({"doc_type": "paymentplan", "order": 1, "approver_kind": "leader"}, "doc_type"),
        ({"doc_type": "quote", "order": 1, "approver_kind": "role"}, "role"),
        ({"doc_type": "quote", "order": 1, "approver_kind": "users", "users": []}, "users"),
        ({"doc_type": "quote", "order": 0, "approver_kind": "leader"}, "order"),
        ({"doc_type": "quote", "order": "第一", "approver_kind": "leader"}, "order"),
        ({"doc_type": "quote", "order": 1, "approver_kind": "boss"}, "approver_kind"),
    ],
)
def test_bad_steps_are_refused_in_chinese_and_change_nothing(org, data, field):
    with pytest.raises(ApplicationError) as err:
        approval_step_save(actor=org["admin"], instance=None, data=data)
    assert field in err.value.errors and not err.value.errors[field][0].isascii()
    assert not ApprovalStep.objects.exists()


def test_a_step_order_is_unique_per_type(org):
    data = {"doc_type": "contract", "order": 1, "approver_kind": ApproverKind.LEADER}
    approval_step_save(actor=org["admin"], instance=None, data=data)
    with pytest.raises(ApplicationError) as err:
        approval_step_save(actor=org["admin"], instance=None, data=data)
    assert "第1步已存在" in err.value.errors["order"][0]
    assert ApprovalStep.objects.count() == 1


def test_only_admins_configure_flows(org, client_for):
    with pytest.raises(Forbidden):
        approval_step_save(
            actor=org["manager1"],
            instance=None,
            data={"doc_type": "quote", "order": 1, "approver_kind": ApproverKind.LEADER},
        )
    assert client_for("manager1").get("/settings/approval-steps/").status_code == 403
    page = client_for("admin").get("/settings/approval-steps/").content.decode()
    assert "审批流程" in page and "回款默认：财务" in page
    response = client_for("admin").post(
        "/settings/approval-steps/add/",
        {
            "doc_type": "payment",
            "order": "1",
            "approver_kind": "users",
            "users": [org["finance1"].pk],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    step = ApprovalStep.objects.get()
    assert step.doc_type == "payment" and list(step.users.all()) == [org["finance1"]]
