"""The three roles as Django groups, with model permissions that match what each role may do
over the API (the API checks roles itself; these make the Django admin agree)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ANNOTATION_MODELS = [
    "project",
    "prompt",
    "candidate",
    "candidateset",
    "candidatesetmember",
    "assignment",
    "ranking",
]
ROLE_PERMISSIONS = {
    "admin": [
        (app, f"{action}_{model}")
        for app, models in (
            ("annotation", ANNOTATION_MODELS),
            ("training", ["modelversion"]),
            ("auth", ["user"]),
        )
        for model in models
        for action in ("add", "change", "delete", "view")
    ],
    "reviewer": [("annotation", f"view_{m}") for m in ANNOTATION_MODELS]
    + [("training", "view_modelversion")],
    "annotator": [
        ("annotation", "view_project"),
        ("annotation", "view_assignment"),
        ("annotation", "add_ranking"),
    ],
}


def create_role_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def delete_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0001_initial"),
        ("training", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, delete_role_groups)]
