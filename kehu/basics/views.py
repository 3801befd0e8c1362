from kehu.core import views as generic

from . import filters, forms, selectors, services, tables


class DictEntryListView(generic.ObjectListView):
    title = "字典"
    url_name = "dictentry"
    permission_required = "basics.view_dictentry"
    add_permission = "basics.add_dictentry"
    filterset_class = filters.DictEntryFilterSet
    table_class = tables.DictEntryTable

    def get_queryset(self, request):
        return selectors.dict_entries()


class DictEntryEditView(generic.ObjectEditView):
    form_class = forms.DictEntryForm
    save_service = services.dict_entry_save
    success_url_name = "dictentry_list"
    title_add, title_edit = "添加字典项", "编辑字典项"
    modal_size = "modal-md"

    def get_queryset(self, request):
        return selectors.dict_entries()


class DictEntryDeleteView(generic.ObjectDeleteView):
    permission_required = "basics.delete_dictentry"
    delete_service = services.dict_entry_delete
    success_url_name = "dictentry_list"

    def get_queryset(self, request):
        return selectors.dict_entries()
