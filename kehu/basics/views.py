from django.http import JsonResponse
from django.views import View

from kehu.core import views as generic

from . import filters, forms, selectors, services, tables
from .schemas import product_choice


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


# --- 产品 (products) ----------------------------------------------------------------------------


class ProductListView(generic.ObjectListView):
    title = "产品"
    url_name = "product"
    permission_required = "basics.view_product"
    add_permission = "basics.add_product"
    add_label = "添加产品"
    filterset_class = filters.ProductFilterSet
    table_class = tables.ProductTable

    def get_queryset(self, request):
        return selectors.product_list(request.user)

    def get_table(self, request, queryset):
        table = super().get_table(request, queryset)
        user = request.user
        if not (user.has_perm("basics.change_product") or user.has_perm("basics.delete_product")):
            table.columns.hide("actions")  # 业务员 and 财务 read the price list, nothing more
        return table


class ProductEditView(generic.ObjectEditView):
    form_class = forms.ProductForm
    save_service = services.product_save
    success_url_name = "product_list"
    title_add, title_edit = "添加产品", "编辑产品"

    def get_queryset(self, request):
        return selectors.product_list(request.user)


class ProductDeleteView(generic.ObjectDeleteView):
    permission_required = "basics.delete_product"
    delete_service = services.product_delete
    success_url_name = "product_list"

    def get_queryset(self, request):
        return selectors.product_list(request.user)


class ProductPickerView(generic.KehuViewMixin, View):
    """``GET /products/picker/?q=``: the enabled products matching ``q`` as ``{items, count}``
    for Tom Select (``data-remote``, kehu.js), e.g. the 产品 of a quote's line item."""

    permission_required = "basics.view_product"

    def get(self, request):
        products = selectors.product_picker(request.user, request.GET.get("q", ""))
        items = [product_choice(p) for p in products]
        return JsonResponse({"items": items, "count": len(items)})
