"""The ONE approval engine (SPEC §6.1, §6.4, §13) for every approvable document type.

A flow is the ordered steps configured for the type in 系统设置 (:class:`ApprovalStep`), or the
default below when none are. Each step is approved by the submitter's department leader (up the
tree when the submitter leads it or it has none), by the holders of a role, or by named users;
系统管理员 may act on any step. States: 未申请 → (submit) 待审批 → (approve each step) 审批通过, or
(reject, with a comment) 驳回 → edit and resubmit; 撤回 while pending goes back to 未申请. An
approved document is read-only; 作废 (with a reason, ``void`` permission) reverses it.

The last approval and 作废 call the type's ledger hooks in the same transaction, with the
document's row locked, so a figure can never be approved twice or reversed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change
from kehu.core import memo
from kehu.core.errors import ApplicationError, Forbidden
from kehu.org.authz import authorize

from .models import (
    EDITABLE_STATES,
    ApprovalAction,
    ApprovalRecord,
    ApprovalStatus,
    ApprovalStep,
    ApproverKind,
)
from .services import not_editable
from .types import DocumentType, registry

MAX_DEPARTMENT_DEPTH = 6

# Built-in flows (SPEC §13): quote and contract → the department leader; payments and on-account
# orders → 财务.
DEFAULT_FLOWS: dict[str, list[dict]] = {
    "quote": [{"kind": ApproverKind.LEADER}],
    "contract": [{"kind": ApproverKind.LEADER}],
    "payment": [{"kind": ApproverKind.ROLE, "role_code": "finance", "role_name": "财务"}],
    "onaccount": [{"kind": ApproverKind.ROLE, "role_code": "finance", "role_name": "财务"}],
}


@dataclass(frozen=True)
class Step:
    kind: str
    role_id: int | None = None
    role_code: str = ""
    role_name: str = ""
    user_ids: frozenset[int] = field(default_factory=frozenset)
    user_names: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == ApproverKind.LEADER:
            return "部门负责人"
        if self.kind == ApproverKind.ROLE:
            return f"角色：{self.role_name or '（未指定）'}"
        return "人员：" + ("、".join(self.user_names) or "（未指定）")


def flow(doc_type: str) -> list[Step]:
    """The ordered steps of ``doc_type``: as configured in 系统设置, else the default."""
    from kehu.core import memo

    return memo.memoized(("approval_flows",), _all_flows).get(doc_type) or memo.memoized(
        ("approval_default_flow", doc_type), lambda: _default_flow(doc_type)
    )


def _all_flows() -> dict[str, list[Step]]:
    flows: dict[str, list[Step]] = {}
    for s in (
        ApprovalStep.objects.select_related("role")
        .prefetch_related("users")
        .order_by("order", "id")
    ):
        users = list(s.users.all())
        flows.setdefault(s.doc_type, []).append(
            Step(
                kind=s.approver_kind,
                role_id=s.role_id,
                role_code=s.role.code if s.role else "",
                role_name=s.role.name if s.role else "",
                user_ids=frozenset(u.pk for u in users),
                user_names=tuple(u.get_full_name() or u.username for u in users),
            )
        )
    return flows


def _default_flow(doc_type: str) -> list[Step]:
    return [
        Step(
            kind=spec["kind"],
            role_code=spec.get("role_code", ""),
            role_name=spec.get("role_name", ""),
        )
        for spec in DEFAULT_FLOWS.get(doc_type, [{"kind": ApproverKind.LEADER}])
    ]


def leader_for(submitter):
    """The submitter's department leader — the parent department's when the submitter leads
    their own department or it has none; None at the top."""
    department = getattr(submitter, "department", None)
    while department is not None:
        if department.leader_id and department.leader_id != submitter.pk:
            return department.leader
        department = department.parent
    return None


def is_approver(user, doc, step: Step) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if step.kind == ApproverKind.LEADER:
        leader = leader_for(doc.submitted_by) if doc.submitted_by_id else None
        return leader is not None and leader.pk == user.pk
    if step.kind == ApproverKind.ROLE:
        return _holds_role(user, step)
    return user.pk in step.user_ids


def _holds_role(user, step: Step) -> bool:
    # ``user.roles`` is prefetched for the signed-in user (RoleBackend): no query.
    return any(
        (step.role_id is not None and r.pk == step.role_id)
        or (step.role_code and r.code == step.role_code)
        for r in user.roles.all()
    )


def _leader_q(user) -> Q:
    """Documents whose submitter's department leader (up the tree, as :func:`leader_for`)
    is ``user`` — as a query, for 待我审批 lists and counts."""
    path, skipped = "submitted_by__department", Q()
    found = Q(pk__in=[])
    for _depth in range(MAX_DEPARTMENT_DEPTH):
        found |= skipped & Q(**{f"{path}__leader": user})
        skipped &= Q(**{f"{path}__leader__isnull": True}) | Q(
            **{f"{path}__leader": F("submitted_by")}
        )
        path += "__parent"
    return found & ~Q(submitted_by=user)


def approver_q(user, decl: DocumentType) -> Q | None:
    """Pending documents of ``decl`` waiting on ``user`` at their current step (None: none)."""
    if getattr(user, "is_admin", False):
        return Q(approval_status=ApprovalStatus.PENDING)
    found = None
    for index, step in enumerate(flow(decl.key)):
        if step.kind == ApproverKind.LEADER:
            cond = Q(approval_step=index) & _leader_q(user)
        elif (step.kind == ApproverKind.ROLE and _holds_role(user, step)) or (
            step.kind == ApproverKind.USERS and user.pk in step.user_ids
        ):
            cond = Q(approval_step=index)
        else:
            continue
        found = cond if found is None else found | cond
    return None if found is None else Q(approval_status=ApprovalStatus.PENDING) & found


def current_step(doc) -> Step | None:
    steps = flow(registry_key(doc))
    return steps[doc.approval_step] if doc.approval_step < len(steps) else None


def registry_key(doc) -> str:
    for key, decl in registry.items():
        if decl.model is type(doc):
            return key
    raise LookupError(type(doc))


def may_approve(user, doc) -> bool:
    """Is ``user`` the approver of ``doc``'s current step (or an administrator)?"""
    if doc.approval_status != ApprovalStatus.PENDING:
        return False
    if getattr(user, "is_admin", False):
        return True
    step = current_step(doc)
    return step is not None and is_approver(user, doc, step)


def _lock(decl: DocumentType, doc):
    return (
        decl.model.objects.select_for_update(of=("self",))
        .select_related("customer", "submitted_by__department__leader")
        .get(pk=doc.pk)
    )


def _record(decl, doc, actor, action: str, comment: str, *, before: str) -> None:
    ApprovalRecord.objects.create(
        doc_type=decl.key,
        document_id=doc.pk,
        step=doc.approval_step,
        action=action,
        actor=actor,
        comment=comment,
    )
    label = ApprovalAction(action).label
    record_change(
        actor=actor,
        action=Action.APPROVE,
        obj=doc,
        before={"approval_status": before},
        after={"approval_status": doc.approval_status, "comment": comment}
        if comment
        else {"approval_status": doc.approval_status},
        message=f"{decl.label}「{doc.number}」{label}" + (f"：{comment}" if comment else ""),
    )


def clean_comment(comment: str | None, *, required: bool, what: str) -> str:
    """An approval comment or reason as stored: control characters dropped, trimmed, required
    when ``required`` ("请填写{what}"), at most 200 characters."""
    from kehu.customers.validation import CONTROL_CHARACTERS

    text = CONTROL_CHARACTERS.sub("", comment or "").strip()
    if required and not text:
        raise ApplicationError(f"请填写{what}", errors={"comment": [f"请填写{what}"]})
    if len(text) > 200:
        raise ApplicationError(
            f"{what}不能超过200个字符", errors={"comment": [f"{what}不能超过200个字符"]}
        )
    return text


def _state_error(decl, doc, doing: str) -> ApplicationError:
    return ApplicationError(
        f"{decl.label}「{doc.number}」{doc.get_approval_status_display()}，不能{doing}",
        code="wrong_state",
        status=409,
    )


@transaction.atomic
def submit(decl: DocumentType, *, actor, doc, comment: str = ""):
    doc = _lock(decl, doc)
    authorize(actor, "change", doc, message=f"只有客户的负责人、其上级或管理员可以提交{decl.label}")
    if doc.approval_status not in EDITABLE_STATES:
        raise _state_error(decl, doc, "提交审批")
    comment = clean_comment(comment, required=False, what="说明")
    reason = decl.submit_refusal(doc)
    if reason:
        raise ApplicationError(reason, code="refused")
    before = doc.approval_status
    doc.approval_status, doc.approval_step = ApprovalStatus.PENDING, 0
    doc.submitted_by, doc.submitted_at = actor, timezone.now()
    doc.save(
        update_fields=[
            "approval_status",
            "approval_step",
            "submitted_by",
            "submitted_at",
            "updated_at",
        ]
    )
    _record(decl, doc, actor, ApprovalAction.SUBMIT, comment, before=before)
    return doc


@transaction.atomic
def withdraw(decl: DocumentType, *, actor, doc):
    doc = _lock(decl, doc)
    authorize(actor, "change", doc, message=f"只有客户的负责人、其上级或管理员可以撤回{decl.label}")
    if doc.approval_status != ApprovalStatus.PENDING:
        raise _state_error(decl, doc, "撤回")
    doc.approval_status, doc.approval_step = ApprovalStatus.DRAFT, 0
    doc.save(update_fields=["approval_status", "approval_step", "updated_at"])
    _record(decl, doc, actor, ApprovalAction.WITHDRAW, "", before=ApprovalStatus.PENDING)
    return doc


def _check_approver(decl, actor, doc) -> None:
    authorize(actor, "approve", doc, message=f"没有审批{decl.label}的权限")
    if doc.approval_status != ApprovalStatus.PENDING:
        raise _state_error(decl, doc, "审批")
    if not may_approve(actor, doc):
        step = current_step(doc)
        who = step.describe() if step else "审批人"
        raise Forbidden(f"该{decl.label}当前由{who}审批，您不是这一步的审批人")


@transaction.atomic
@memo.scoped
def approve(decl: DocumentType, *, actor, doc, comment: str = ""):
    doc = _lock(decl, doc)
    _check_approver(decl, actor, doc)
    comment = clean_comment(comment, required=False, what="审批意见")
    steps = flow(decl.key)
    if doc.approval_step + 1 < len(steps):
        _record(decl, doc, actor, ApprovalAction.APPROVE, comment, before=ApprovalStatus.PENDING)
        doc.approval_step += 1
        doc.save(update_fields=["approval_step", "updated_at"])
        return doc
    reason = decl.submit_refusal(doc)
    if reason:
        raise ApplicationError(reason, code="refused")
    doc.approval_status, doc.approved_at = ApprovalStatus.APPROVED, timezone.now()
    doc.save(update_fields=["approval_status", "approved_at", "updated_at"])
    doc.acting_user = actor  # who approves, for what a hook logs (a service order completed)
    decl.on_approved(doc)
    _record(decl, doc, actor, ApprovalAction.APPROVE, comment, before=ApprovalStatus.PENDING)
    return doc


@transaction.atomic
@memo.scoped
def reject(decl: DocumentType, *, actor, doc, comment: str = ""):
    doc = _lock(decl, doc)
    _check_approver(decl, actor, doc)
    comment = clean_comment(comment, required=True, what="驳回原因")
    doc.approval_status = ApprovalStatus.REJECTED
    doc.save(update_fields=["approval_status", "updated_at"])
    _record(decl, doc, actor, ApprovalAction.REJECT, comment, before=ApprovalStatus.PENDING)
    return doc


@transaction.atomic
def void(decl: DocumentType, *, actor, doc, reason: str = ""):
    doc = _lock(decl, doc)
    authorize(actor, "void", doc, message=f"没有作废{decl.label}的权限")
    if doc.approval_status != ApprovalStatus.APPROVED:
        raise _state_error(decl, doc, "作废")
    reason = clean_comment(reason, required=True, what="作废原因")
    refusal = decl.void_refusal(doc)
    if refusal:
        raise ApplicationError(refusal, code="refused", status=409)
    doc.approval_status, doc.voided_at, doc.void_reason = (
        ApprovalStatus.VOID,
        timezone.now(),
        reason,
    )
    doc.save(update_fields=["approval_status", "voided_at", "void_reason", "updated_at"])
    doc.acting_user = actor
    decl.on_voided(doc)
    _record(decl, doc, actor, ApprovalAction.VOID, reason, before=ApprovalStatus.APPROVED)
    return doc


ACTIONS = {
    "submit": submit,
    "withdraw": withdraw,
    "approve": approve,
    "reject": reject,
    "void": void,
}

# The authorization action each approval action needs (``kehu.org.authz``): the pages and the
# API check its permission before they read the document, as every route does.
ACTION_PERMISSIONS = {
    "submit": "change",
    "withdraw": "change",
    "approve": "approve",
    "reject": "approve",
    "void": "void",
}


def check_allowed(decl: DocumentType, *, actor, doc, action: str) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may do ``action`` on ``doc`` as far as who they
    are goes: the permission, the document theirs to manage (提交/撤回), the approver of the
    current step (审批/驳回 of a pending document). The state is the action's own check; the
    action's modal asks this before it opens, like an edit form."""
    authorize(actor, ACTION_PERMISSIONS[action], doc)
    if (
        action in ("approve", "reject")
        and doc.approval_status == ApprovalStatus.PENDING
        and not may_approve(actor, doc)
    ):
        step = current_step(doc)
        who = step.describe() if step else "审批人"
        raise Forbidden(f"该{decl.label}当前由{who}审批，您不是这一步的审批人")


def run(decl: DocumentType, action: str, *, actor, doc, comment: str = ""):
    fn = ACTIONS[action]
    if action == "withdraw":
        return fn(decl, actor=actor, doc=doc)
    if action == "void":
        return fn(decl, actor=actor, doc=doc, reason=comment)
    return fn(decl, actor=actor, doc=doc, comment=comment)


def history(decl: DocumentType, doc) -> list[ApprovalRecord]:
    return list(
        ApprovalRecord.objects.filter(doc_type=decl.key, document_id=doc.pk).select_related("actor")
    )


def pending_querysets(user) -> list[tuple[DocumentType, object]]:
    """Per approvable type, the queryset of documents waiting on ``user`` (visible ones)."""
    from .selectors import document_list

    found = []
    for decl in approvable(user):
        cond = approver_q(user, decl)
        if cond is not None:
            found.append((decl, document_list(decl, user=user).filter(cond)))
    return found


def pending_for(user, limit: int = 200) -> list[tuple[DocumentType, object]]:
    """待我审批: documents waiting on ``user`` at their current step, across all types."""
    found: list[tuple[DocumentType, object]] = []
    for decl, qs in pending_querysets(user):
        found += [
            (decl, doc)
            for doc in qs.select_related("submitted_by").order_by("submitted_at", "id")[:limit]
        ]
    return found


def approvable(user) -> list[DocumentType]:
    """The document types ``user`` holds the approve permission of (no query)."""
    return [d for d in registry.values() if d.approval and user.has_perm(_approve_perm(d))]


def _approve_perm(decl: DocumentType) -> str:
    from kehu.org.authz import permission_for

    return permission_for(decl.model, "approve")


def editable_error(decl, doc):
    return not_editable(decl, doc)
