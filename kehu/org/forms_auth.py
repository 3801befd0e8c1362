from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from kehu.core.forms import StyledFormMixin


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入",
        "inactive": "该账号已停用",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update(
            {"class": "form-control", "placeholder": "用户名", "autofocus": True}
        )
        self.fields["password"].widget = forms.PasswordInput(
            attrs={
                "class": "form-control",
                "placeholder": "密码",
                "autocomplete": "current-password",
            }
        )


class KehuPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    """修改密码: the old password, then the new one twice (Django's password rules). Saving it
    revokes every API token of the user (kehu.org.signals)."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入",
        "password_mismatch": "两次输入的新密码不一致",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {
            "old_password": "原密码",
            "new_password1": "新密码",
            "new_password2": "确认新密码",
        }
        for name, label in labels.items():
            self.fields[name].label = label
            self.fields[name].widget.attrs["col"] = "col-12"
        self.fields["new_password1"].help_text = "至少 8 个字符，不能是常见密码"
        self.fields["new_password2"].help_text = ""
        self._style_fields()
