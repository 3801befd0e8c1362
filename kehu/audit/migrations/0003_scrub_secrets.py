"""Scrub the secrets written into the change log before they were left out (SPEC §8, §12.2).

Until then a user's password hash went into the ``changes``/``snapshot`` of its rows. This is the
one exception to the log being append-only: it removes the secret keys (``kehu.audit.redaction``)
from the rows already written, and records one row saying how many it scrubbed. The JSON is read
and rewritten in Python, in batches by id, so it works the same on SQLite and PostgreSQL; a
text prefilter skips the rows that cannot hold a secret.
"""

from collections import Counter

from django.db import migrations
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from kehu.audit.redaction import has_secrets, strip_secrets

BATCH = 1000
# Every secret key or value contains one of these (redaction.SECRET_FIELDS, SECRET_NAME,
# PASSWORD_HASH's "$"); the rows with none of them are not read.
NEEDLES = (
    "pass",
    "secret",
    "token",
    "session",
    "key_hash",
    "api",
    "private_key",
    "credential",
    "$",
)


def _candidates(manager):
    text = Q()
    for needle in NEEDLES:
        text |= Q(changes_text__icontains=needle) | Q(snapshot_text__icontains=needle)
    return manager.annotate(
        changes_text=Cast("changes", TextField()), snapshot_text=Cast("snapshot", TextField())
    ).filter(text)


def scrub(apps, schema_editor):
    """Remove the secrets from every row; returns how many rows changed."""
    ChangeLog = apps.get_model("audit", "ChangeLog")
    # The plain base manager: the app's own manager refuses updates (append-only).
    manager = ChangeLog._base_manager
    by_type = Counter()
    last = 0
    while True:
        batch = list(
            _candidates(manager)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "object_type", "changes", "snapshot")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1][0]
        for pk, object_type, changes, snapshot in batch:
            if has_secrets(changes, object_type) or has_secrets(snapshot, object_type):
                manager.filter(pk=pk).update(
                    changes=strip_secrets(changes, object_type),
                    snapshot=strip_secrets(snapshot, object_type),
                )
                by_type[object_type or "-"] += 1
    scrubbed = sum(by_type.values())
    if scrubbed:
        manager.create(
            actor=None,
            actor_name="系统",
            action="update",
            object_type="audit.changelog",
            object_repr="变更日志",
            snapshot={"scrubbed": scrubbed, "object_types": dict(sorted(by_type.items()))},
            message=f"清除日志中的密码等敏感字段：{scrubbed} 条",
        )
    return scrubbed


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop, elidable=False)]
