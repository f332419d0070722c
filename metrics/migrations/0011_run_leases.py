"""One lease model for runs and chunks (issue 23): an owner and an expiry on both rows, in place
of the run's heartbeat; a run's kind and seller set (a correction run, issue 22)."""

from django.db import migrations, models


def heartbeat_to_lease(apps, schema_editor):
    """Open runs keep their liveness: the lease of one renewed at ``heartbeat_at`` ends one
    default lease (120 s) later."""
    from datetime import timedelta

    from django.db.models import F

    run = apps.get_model("metrics", "EvaluationRun")
    run.objects.filter(status__in=["pending", "running"], heartbeat_at__isnull=False).update(
        lease_expires_at=F("heartbeat_at") + timedelta(seconds=120)
    )
    run.objects.filter(status__in=["pending", "running"], heartbeat_at__isnull=True).update(
        lease_expires_at=F("created_at") + timedelta(seconds=120)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0010_program_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationrun",
            name="kind",
            field=models.CharField(
                choices=[("period", "Period"), ("correction", "Correction")],
                default="period",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="seller_ids",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="lease_owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(heartbeat_to_lease, migrations.RunPython.noop),
        migrations.RemoveField(model_name="evaluationrun", name="heartbeat_at"),
        migrations.AddField(
            model_name="runchunk",
            name="lease_owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="runchunk",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
