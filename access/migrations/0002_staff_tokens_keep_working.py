"""The migration path of issue 19: staff tokens that worked before keep working.

Before API keys, every staff user could call every operation; now a staff user who is not a
superuser needs the operation's model permissions (``common.scopes``). Each staff user who held
a DRF token when this ran joins the group ``API integration (staff tokens)``, which holds every
permission the API asks for, so its integration goes on unchanged; staff can narrow it in admin,
or move the integration to a scoped API key (``manage.py create_api_key``). A new database has
no such users, and nothing happens.
"""

from django.db import migrations

from common.scopes import all_permissions

GROUP = "API integration (staff tokens)"


def keep_staff_tokens_working(apps, schema_editor):
    user_model = apps.get_model("auth", "User")
    holders = user_model.objects.filter(is_staff=True, is_superuser=False, auth_token__isnull=False)
    if not holders.exists():
        return
    permission_model = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    for perm in sorted(all_permissions()):
        app_label, codename = perm.split(".")
        found = permission_model.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if found is not None:  # a model added after this migration has none yet
            group.permissions.add(found)
    for user in holders:
        user.groups.add(group)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_api_key"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(keep_staff_tokens_working, migrations.RunPython.noop)]
