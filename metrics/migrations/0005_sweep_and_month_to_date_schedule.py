"""Two more django-celery-beat entries (editable in admin): the stale-run sweep every minute and
the month-to-date preview refresh every 10 minutes. Reversible; never overwrites staff edits."""

from django.db import migrations
from django.utils import timezone

ENTRIES = [
    (
        "Take over stale evaluation runs",
        "metrics.tasks.sweep_stale_runs",
        1,
        "Dispatches again the chunks of an open run whose workers went silent (a dead worker).",
    ),
    (
        "Refresh month-to-date previews",
        "metrics.tasks.refresh_month_to_date",
        10,
        "Every seller's month-to-date figures for the grade preview and the dashboard.",
    ),
]


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, minutes, description in ENTRIES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, _minutes, _description in ENTRIES:
        PeriodicTask.objects.filter(name=name, task=task).delete()
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [("metrics", "0004_run_chunks_staging_month_to_date")]

    operations = [migrations.RunPython(schedule, unschedule)]
