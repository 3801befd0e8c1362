"""系统设置 → 审批流程 (under /settings/, kehu/urls.py)."""

from django.urls import include, path

from kehu.core.urls import object_urls

from . import settings_views as views

urlpatterns = [
    path(
        "approval-steps/",
        include(
            object_urls(
                "approvalstep",
                list=views.ApprovalStepListView,
                add=views.ApprovalStepEditView,
                edit=views.ApprovalStepEditView,
                delete=views.ApprovalStepDeleteView,
            )
        ),
    ),
]
