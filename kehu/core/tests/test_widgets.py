"""The form renderer writes <input> and <select> in Python: it must produce exactly what
Django's own widget templates produce, escaping included."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from kehu.core.forms import KehuFormRenderer

XSS = '"><script>alert(1)</script>&'


class Everything(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"class": "form-control", "data-x": XSS}))
    number = forms.IntegerField()
    email = forms.EmailField(required=False)
    hidden = forms.CharField(widget=forms.HiddenInput)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    flag_attrs = forms.CharField(
        widget=forms.TextInput(attrs={"required": True, "disabled": False})
    )
    choice = forms.ChoiceField(choices=[("", "---------"), ("a", "甲"), (XSS, XSS), (3, 3)])
    grouped = forms.ChoiceField(
        choices=[("水果", [("apple", "苹果"), ("pear", mark_safe("<b>梨</b>"))]), ("x", "其他")]
    )
    many = forms.MultipleChoiceField(choices=[("1", "一"), ("2", "二"), ("3", "三")])
    yes_no = forms.NullBooleanField()


VALUES = [
    {},
    {
        "text": XSS,
        "number": "12",
        "email": "a@b.cn",
        "hidden": XSS,
        "password": "p<w>",
        "day": "2026-11-27",
        "flag_attrs": "",
        "choice": XSS,
        "grouped": "pear",
        "many": ["1", "3"],
        "yes_no": "true",
    },
]


@pytest.mark.parametrize("data", VALUES)
def test_fast_renderer_matches_django_templates(data):
    initial = {"day": datetime.date(2026, 1, 2)}
    fast = Everything(data or None, initial=initial, renderer=KehuFormRenderer())
    slow = Everything(data or None, initial=initial, renderer=DjangoTemplates())
    for name in Everything.base_fields:
        assert fast[name].as_widget() == slow[name].as_widget(), name


def test_fast_renderer_escapes_values_labels_and_attributes():
    form = Everything({"text": XSS, "choice": XSS}, renderer=KehuFormRenderer())
    html = form["choice"].as_widget() + form["text"].as_widget()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_other_widgets_still_go_through_the_templates():
    class Other(forms.Form):
        note = forms.CharField(widget=forms.Textarea)
        agree = forms.BooleanField(required=False)
        kind = forms.ChoiceField(choices=[("a", "甲"), ("b", "乙")], widget=forms.RadioSelect)

    data = {"note": XSS, "agree": "on", "kind": "b"}
    fast = Other(data, renderer=KehuFormRenderer())
    slow = Other(data, renderer=DjangoTemplates())
    for name in Other.base_fields:
        assert fast[name].as_widget() == slow[name].as_widget()
