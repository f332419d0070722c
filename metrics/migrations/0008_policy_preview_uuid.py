"""Policy previews get random UUID ids (not a sequence), a key of their draft (identical
drafts share a fresh job) and an index for the per-user limit of open jobs (issue 20).

The table is re-created: preview jobs are transient (deleted after POLICY_PREVIEW_KEEP_DAYS)
and an integer id cannot become a UUID; a client polling an old id gets a 404 and posts again.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0007_chunk_started_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.DeleteModel(name="PolicyPreview"),
        migrations.CreateModel(
            name="PolicyPreview",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                (
                    "period",
                    models.CharField(help_text="YYYY-MM: the last evaluated period", max_length=7),
                ),
                ("draft", models.JSONField(help_text="The draft policy (PolicySnapshot.to_json)")),
                ("draft_key", models.CharField(blank=True, db_index=True, max_length=64)),
                ("result", models.JSONField(blank=True, null=True)),
                ("error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(fields=["created_by", "status"], name="preview_by_user_status")
                ],
            },
        ),
    ]
