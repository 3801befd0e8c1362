"""Form base classes: Tabler/Bootstrap classes on every widget, the acting user available."""

from __future__ import annotations

from django import forms


class StyledFormMixin:
    def _style_fields(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)
            if isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("rows", 3)


class KehuForm(StyledFormMixin, forms.Form):
    def __init__(self, *args, user=None, instance=None, **kwargs):
        self.user = user
        self.instance = instance
        super().__init__(*args, **kwargs)
        self._style_fields()


class KehuModelForm(StyledFormMixin, forms.ModelForm):
    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self._style_fields()


class RemoteSelect(forms.Select):
    """A select whose options load from the API as the user types (Tom Select, kehu.js):
    only the chosen option is rendered, so a long list (employees, customers) costs nothing."""

    def __init__(self, url: str, attrs=None):
        super().__init__(attrs={**(attrs or {}), "data-remote": url})

    def optgroups(self, name, value, attrs=None):
        chosen = [v for v in value if v not in (None, "")]
        options = [self.create_option(name, "", "", not chosen, 0)]
        queryset = getattr(self.choices, "queryset", None)
        if chosen and queryset is not None:
            for index, obj in enumerate(queryset.filter(pk__in=chosen), start=1):
                label = self.choices.field.label_from_instance(obj)
                options.append(self.create_option(name, str(obj.pk), label, True, index))
        return [(None, options, 0)]
