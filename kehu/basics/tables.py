import django_tables2 as tables
from django.utils.html import format_html

from kehu.core.tables import ActionsColumn, KehuTable, MoneyColumn

from .models import DictEntry, Product


class DictEntryTable(KehuTable):
    id = tables.Column(verbose_name="ID")
    kind = tables.Column(verbose_name="字典类型")
    name = tables.Column(verbose_name="名称")
    sort = tables.Column(verbose_name="排序")
    is_active = tables.BooleanColumn(verbose_name="启用", yesno="是,否")
    remark = tables.Column(verbose_name="备注")
    actions = ActionsColumn("dictentry")

    class Meta(KehuTable.Meta):
        model = DictEntry
        fields = ["id", "kind", "name", "sort", "is_active", "remark"]


class ProductTable(KehuTable):
    name = tables.Column(verbose_name="产品名称", order_by=("name", "spec", "id"))
    category = tables.Column(verbose_name="类别", order_by=("category", "name", "id"))
    brand = tables.Column(verbose_name="品牌", order_by=("brand", "name", "id"))
    spec = tables.Column(verbose_name="型号规格", orderable=False)
    unit = tables.Column(verbose_name="单位", orderable=False)
    list_price = MoneyColumn(verbose_name="标准价", order_by=("list_price", "id"))
    is_active = tables.Column(verbose_name="启用", order_by=("-is_active", "id"))
    actions = ActionsColumn("product")

    class Meta(KehuTable.Meta):
        model = Product
        fields = ["name", "category", "brand", "spec", "unit", "list_price", "is_active"]
        empty_text = "暂无产品"

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge bg-green-lt">{}</span>', "启用")
        return format_html('<span class="badge bg-secondary-lt">{}</span>', "停用")
