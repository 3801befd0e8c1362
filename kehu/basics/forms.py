from kehu.core.forms import KehuModelForm

from .models import DictEntry


class DictEntryForm(KehuModelForm):
    class Meta:
        model = DictEntry
        fields = ["kind", "name", "sort", "is_active", "remark"]
