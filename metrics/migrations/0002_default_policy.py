"""Seed the default grade policy: Kmong's published rules (SPEC §5).

Only when no policy exists yet, so re-applying (or a database that already has staff-edited
policies) never creates a second active policy. Reversing removes only the seeded policy, and
only while no evaluation run used it.
"""

from decimal import Decimal

from django.db import migrations

DEFAULT_NAME = "Kmong default"

# (level name, rank, [(metric, op, value, any_of), ...])
DEFAULT_LEVELS = [
    ("Level 1", 1, []),
    (
        "Level 2",
        2,
        [
            ("completed_orders", ">=", Decimal("15"), "volume"),
            ("revenue", ">=", Decimal("5000000"), "volume"),
            ("average_rating", ">=", Decimal("4.7"), ""),
            ("response_rate", ">=", Decimal("90"), ""),
        ],
    ),
    (
        "Level 3",
        3,
        [
            ("completed_orders", ">=", Decimal("100"), "volume"),
            ("revenue", ">=", Decimal("20000000"), "volume"),
            ("average_rating", ">=", Decimal("4.7"), ""),
            ("success_rate", ">=", Decimal("85"), ""),
        ],
    ),
    (
        "Master",
        4,
        [
            ("revenue_top_percent", "<=", Decimal("1"), ""),
            ("on_time_rate", ">=", Decimal("85"), ""),
            ("review_count", ">=", Decimal("1300"), ""),
        ],
    ),
]


def seed_default_policy(apps, schema_editor):
    GradePolicy = apps.get_model("metrics", "GradePolicy")
    GradeLevel = apps.get_model("metrics", "GradeLevel")
    Criterion = apps.get_model("metrics", "Criterion")
    if GradePolicy.objects.exists():
        return
    policy = GradePolicy.objects.create(
        name=DEFAULT_NAME,
        is_active=True,
        window_months=3,
        window_days=None,
        response_window_hours=24,
        demotion_grace_months=0,
    )
    for name, rank, criteria in DEFAULT_LEVELS:
        level = GradeLevel.objects.create(policy=policy, name=name, rank=rank)
        for metric, op, value, any_of in criteria:
            Criterion.objects.create(level=level, metric=metric, op=op, value=value, any_of=any_of)


def remove_default_policy(apps, schema_editor):
    GradePolicy = apps.get_model("metrics", "GradePolicy")
    GradePolicy.objects.filter(name=DEFAULT_NAME, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_default_policy, remove_default_policy),
    ]
