"""The monthly evaluation in django-celery-beat (SPEC §6): 00:05 on the 1st, in TIME_ZONE.

A data migration, so a fresh deployment schedules itself; staff can edit or disable the entry
in admin afterwards (get_or_create never overwrites their changes). Reversible.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TASK_NAME = "Monthly seller evaluation"
TASK = "metrics.tasks.evaluate_previous_month"
CRONTAB = {
    "minute": "5",
    "hour": "0",
    "day_of_week": "*",
    "day_of_month": "1",
    "month_of_year": "*",
}


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _ = CrontabSchedule.objects.get_or_create(**CRONTAB, timezone=settings.TIME_ZONE)
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "description": "Evaluates every seller for the month that just ended "
            "(metrics.runs.execute_run).",
        },
    )
    # Historical models send no signals: tell a running beat scheduler its table changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTask.objects.filter(name=TASK_NAME, task=TASK).delete()
    CrontabSchedule.objects.filter(
        **CRONTAB, timezone=settings.TIME_ZONE, periodictask__isnull=True
    ).delete()
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0002_default_policy"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
