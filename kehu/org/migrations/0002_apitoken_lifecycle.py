"""API tokens get a lifecycle (issue 10, SPEC §13): a name, an expiry, verbose names.

Tokens were already stored as their SHA-256 only (``key_hash``), so nothing is re-hashed. The
tokens issued before this migration expire ``KEHU_API_TOKEN_DAYS`` after they were created,
like every later one (a token older than that stops working at once: it should have expired).
"""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import kehu.org.models


def set_expiry(apps, schema_editor):
    ApiToken = apps.get_model("org", "ApiToken")
    lifetime = timedelta(days=settings.KEHU_API_TOKEN_DAYS)
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at + lifetime)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="apitoken",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "API 令牌",
                "verbose_name_plural": "API 令牌",
            },
        ),
        migrations.AddField(
            model_name="apitoken",
            name="name",
            field=models.CharField(default="API", max_length=100, verbose_name="名称"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="过期时间"),
        ),
        migrations.RunPython(set_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                db_index=True, default=kehu.org.models.token_expiry, verbose_name="过期时间"
            ),
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="创建时间"),
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最近使用"),
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="prefix",
            field=models.CharField(max_length=8, verbose_name="前缀"),
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_tokens",
                to=settings.AUTH_USER_MODEL,
                verbose_name="员工",
            ),
        ),
    ]
