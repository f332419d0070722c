"""The minute beat entry sends every due outbox row, emails as well as webhook deliveries
(issue 20): the entry of 0002 now runs ``retry_due_notifications``. Reversible; an entry a
staff user renamed or re-pointed is left as it is."""

from django.db import migrations
from django.utils import timezone

OLD_NAME = "Retry due webhook deliveries"
OLD_TASK = "notifications.tasks.retry_due_webhooks"
NAME = "Retry due emails and webhook deliveries"
TASK = "notifications.tasks.retry_due_notifications"


def _point(apps, *, old_name, old_task, name, task, description):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTask.objects.filter(name=old_name, task=old_task).update(
        name=name, task=task, description=description
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def forwards(apps, schema_editor):
    _point(
        apps,
        old_name=OLD_NAME,
        old_task=OLD_TASK,
        name=NAME,
        task=TASK,
        description="Emails and webhook deliveries whose exponential backoff is over, sent again.",
    )


def backwards(apps, schema_editor):
    _point(
        apps,
        old_name=NAME,
        old_task=TASK,
        name=OLD_NAME,
        task=OLD_TASK,
        description="Webhook deliveries whose exponential backoff is over, sent again.",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_email_retry_state"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
