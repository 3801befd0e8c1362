import django_tables2 as tables

from kehu.core.tables import ActionsColumn, KehuTable

from .models import DictEntry


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
