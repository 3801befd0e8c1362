"""Form base classes: Tabler/Bootstrap classes on every widget, the acting user available."""

from __future__ import annotations

from django import forms
from django.db import models
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

# Django's and django-filter's empty choice: never shown as such (issue 14.3).
DASHES = "---------"


class StyledFormMixin:
    # What an empty select reads: 请选择 in a form, 全部 in a search panel (StyledFilterForm).
    empty_choice_label = "请选择"

    def _label_empty_choice(self, field) -> None:
        # ModelChoiceField and django-filter's ChoiceField name it (read when rendered)
        if hasattr(field, "empty_label"):
            if field.empty_label == DASHES:
                field.empty_label = self.empty_choice_label
                wrapped = getattr(field.choices, "choices", None)
                if wrapped is not None and not isinstance(field, forms.ModelChoiceField):
                    # django-filter's choice iterator may still name the declared field (whose
                    # label is the default): wrap the choices again, for this field
                    field.choices = wrapped
        elif isinstance(field, forms.ChoiceField) and not callable(field.choices):
            choices = list(field.choices)
            if any(value == "" and label == DASHES for value, label in choices):
                field.choices = [
                    (value, self.empty_choice_label if value == "" and label == DASHES else label)
                    for value, label in choices
                ]

    def _style_fields(self) -> None:
        for field in self.fields.values():
            self._label_empty_choice(field)
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
    # Set when ``?field=`` preselected something the user may not pick (the view answers 404).
    preselect_error = ""

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
        # Only ids a database can hold are looked up: a bound ``?owner=1e400`` or
        # ``?owner=99999999999999999999`` (an invalid filter) renders as nothing chosen.
        queryset = getattr(self.choices, "queryset", None)
        integer_pk = queryset is not None and isinstance(
            queryset.model._meta.pk, models.IntegerField | models.AutoField
        )
        chosen = [v for v in value if v not in (None, "") and (_is_id(v) or not integer_pk)]
        options = [self.create_option(name, "", "", not chosen, 0)]
        if chosen and queryset is not None:
            for index, obj in enumerate(queryset.filter(pk__in=chosen), start=1):
                label = self.choices.field.label_from_instance(obj)
                options.append(self.create_option(name, str(obj.pk), label, True, index))
        return [(None, options, 0)]


def _is_id(value) -> bool:
    try:
        return 0 < int(str(value)) <= 2**63 - 1
    except ValueError:
        return False


class KehuFormRenderer(DjangoTemplates):
    """Django's form renderer, with the plain ``<input>`` and ``<select>`` widgets written out
    in Python (byte for byte what Django's widget templates produce; see test_widgets).

    Rendering a select through the template engine includes one template per ``<option>``; the
    search panels and modal forms have hundreds of options, so this is a good part of a page's
    time. Any other template (or an overridden option template) goes through the engine.
    """

    INPUTS = frozenset(
        f"django/forms/widgets/{name}.html"
        for name in (
            "input", "text", "number", "email", "url", "tel", "search", "password",
            "hidden", "date", "datetime", "time", "color",
        )
    )  # fmt: skip
    SELECT = "django/forms/widgets/select.html"
    OPTION = "django/forms/widgets/select_option.html"

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None:
            if template_name in self.INPUTS:
                return _render_input(widget)
            if template_name == self.SELECT and all(
                option["template_name"] == self.OPTION
                for _group, options, _index in widget["optgroups"]
                for option in options
            ):
                return _render_select(widget)
        return super().render(template_name, context, request)


def _attrs(attrs: dict) -> str:
    # django/forms/widgets/attrs.html: False drops the attribute, True writes its bare name.
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _render_input(widget) -> SafeString:
    value = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
    return mark_safe(  # noqa: S308 - every part escaped above
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    )


def _render_select(widget) -> SafeString:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(localize(group_name))}">')
        for option in options:  # (the option template's own trailing newline included)
            parts.append(
                f'\n  <option value="{escape(option["value"])}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(localize(option['label']))}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every part escaped above
