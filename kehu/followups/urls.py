from django.urls import path

from . import views

urlpatterns = [
    path("followups/", views.FollowUpListView.as_view(), name="followup_list"),
    path("customers/<int:pk>/followups/add/", views.FollowUpAddView.as_view(), name="followup_add"),
    path("followups/<int:pk>/edit/", views.FollowUpEditView.as_view(), name="followup_edit"),
    path("todo/", views.TodoView.as_view(), name="todo"),
]
