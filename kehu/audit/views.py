from kehu.core import views as generic

from . import filters, selectors, tables


class ChangeLogListView(generic.ObjectListView):
    title = "变更日志"
    permission_required = "audit.view_changelog"
    filterset_class = filters.ChangeLogFilterSet
    table_class = tables.ChangeLogTable

    def get_queryset(self, request):
        return selectors.changelog_list(user=request.user)
