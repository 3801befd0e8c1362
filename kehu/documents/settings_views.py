"""系统设置 → 审批流程: the ordered approval steps of each document type (SPEC §13)."""

from __future__ import annotations

from typing import Any

import django_filters
import django_tables2 as tables
from django import forms
from django.db import IntegrityError, transaction
from django.utils.html import format_html_join

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core import views as generic
from kehu.core.errors import ApplicationError
from kehu.core.filters import KehuFilterSet
from kehu.core.forms import KehuModelForm
from kehu.core.tables import ActionsColumn, KehuTable
from kehu.org.authz import authorize, restrict

from .approval import DEFAULT_FLOWS
from .models import ApprovalStep, ApproverKind
from .types import registry


def doc_type_choices() -> list[tuple[str, str]]:
    return [(k, d.label) for k, d in registry.items() if d.approval]


def default_flow_text(doc_type: str) -> str:
    specs = DEFAULT_FLOWS.get(doc_type, [{"kind": ApproverKind.LEADER}])
    return " → ".join(s.get("role_name") or str(ApproverKind(s["kind"]).label) for s in specs)


def approval_steps(user):
    return restrict(
        ApprovalStep.objects.select_related("role").prefetch_related("users"), user
    ).order_by("doc_type", "order", "id")


@transaction.atomic
def approval_step_save(
    *, actor, instance: ApprovalStep | None, data: dict[str, Any]
) -> ApprovalStep:
    authorize(actor, "change" if instance else "add", instance or ApprovalStep)
    errors: dict[str, list[str]] = {}
    step = instance or ApprovalStep()
    before = snapshot(step) if instance else None
    doc_type = data.get("doc_type") or (instance.doc_type if instance else "")
    if doc_type not in dict(doc_type_choices()):
        errors["doc_type"] = ["请选择单据类型"]
    kind = data.get("approver_kind")
    if kind not in ApproverKind.values:
        errors["approver_kind"] = ["请选择审批人"]
    role, users = data.get("role"), list(data.get("users") or [])
    if kind == ApproverKind.ROLE and role is None:
        errors["role"] = ["请选择审批角色"]
    if kind == ApproverKind.USERS and not users:
        errors["users"] = ["请至少选择一位审批人"]
    try:
        raw = data.get("order")
        order = int(1 if raw in (None, "") else raw)
        if not 1 <= order <= 20:
            raise ValueError
    except (TypeError, ValueError):
        errors["order"] = ["顺序必须是1到20的整数"]
        order = 1
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    step.doc_type, step.order, step.approver_kind = doc_type, order, kind
    step.role = role if kind == ApproverKind.ROLE else None
    try:
        with transaction.atomic():
            step.save()
    except IntegrityError:
        raise ApplicationError(
            "该单据类型已有这一步", errors={"order": [f"第{order}步已存在，请换一个顺序"]}
        ) from None
    step.users.set(users if kind == ApproverKind.USERS else [])
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=step,
        before=before,
        after={**snapshot(step), "users": [u.pk for u in step.users.all()]},
        message=f"审批流程：{step}",
    )
    return step


@transaction.atomic
def approval_step_delete(*, actor, instance: ApprovalStep) -> None:
    authorize(actor, "delete", instance)
    record_change(
        actor=actor,
        action=Action.DELETE,
        obj=instance,
        before=snapshot(instance),
        message=f"审批流程：{instance}",
    )
    instance.delete()


class ApprovalStepFilterSet(KehuFilterSet):
    doc_type = django_filters.ChoiceFilter(label="单据类型", choices=doc_type_choices)

    class Meta(KehuFilterSet.Meta):
        model = ApprovalStep
        fields: list[str] = []


class ApprovalStepTable(KehuTable):
    doc_type = tables.Column(verbose_name="单据类型", orderable=False)
    order = tables.Column(verbose_name="顺序", orderable=False)
    approver_kind = tables.Column(verbose_name="审批人", orderable=False)
    who = tables.Column(verbose_name="角色/人员", orderable=False, empty_values=())
    actions = ActionsColumn("approvalstep")

    class Meta(KehuTable.Meta):
        model = ApprovalStep
        fields = ["doc_type", "order", "approver_kind", "who", "actions"]
        empty_text = "未配置审批流程：报价单、合同由提交人的部门负责人审批，回款由财务审批"

    def render_doc_type(self, record):
        return record.get_doc_type_display()

    def render_who(self, record):
        if record.approver_kind == ApproverKind.ROLE:
            return record.role.name if record.role else "—"
        if record.approver_kind == ApproverKind.USERS:
            return format_html_join(
                "、", "{}", ((u.get_full_name() or u.username,) for u in record.users.all())
            )
        return "提交人所在部门的负责人（其本人提交时由上级部门负责人审批）"


class ApprovalStepForm(KehuModelForm):
    doc_type = forms.ChoiceField(label="单据类型", choices=())

    class Meta:
        model = ApprovalStep
        fields = ["doc_type", "order", "approver_kind", "role", "users"]
        widgets = {
            "users": forms.SelectMultiple(attrs={"data-picker": "1", "col": "col-12"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.org.models import User

        self.fields["doc_type"].choices = doc_type_choices()
        self.fields["users"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["users"].required = False
        self.fields["role"].required = False
        self.fields["order"].help_text = "从1开始；按顺序逐步审批，最后一步通过即审批通过"
        if self.instance.pk:
            self.fields["doc_type"].disabled = True

    def _post_clean(self):
        pass  # approval_step_save validates


class ApprovalStepListView(generic.ObjectListView):
    model = ApprovalStep
    action = "view"
    title = "审批流程"
    url_name = "approvalstep"
    filterset_class = ApprovalStepFilterSet
    table_class = ApprovalStepTable
    add_permission = "documents.add_approvalstep"
    extra_buttons_template = None

    def get_queryset(self, request):
        return approval_steps(request.user)

    def get_extra_context(self, request):
        return {
            "intro": "；".join(
                f"{label}默认：{default_flow_text(key)}" for key, label in doc_type_choices()
            )
            + "。为某类单据添加步骤后，按配置的步骤审批。"
        }


class ApprovalStepEditView(generic.ObjectEditView):
    form_class = ApprovalStepForm
    save_service = staticmethod(approval_step_save)
    success_url_name = "approvalstep_list"
    title_add, title_edit = "添加审批步骤", "编辑审批步骤"
    modal_size = "modal-md"

    def get_queryset(self, request):
        return approval_steps(request.user)


class ApprovalStepDeleteView(generic.ObjectDeleteView):
    model = ApprovalStep
    action = "delete"
    delete_service = staticmethod(approval_step_delete)
    success_url_name = "approvalstep_list"

    def get_queryset(self, request):
        return approval_steps(request.user)
