"""Roles are Django groups of the same name (admin, reviewer, annotator); a user has one.
Superusers count as admins. The groups and their model permissions (which make the Django
admin agree with the API's role checks) are kept in place after every ``migrate`` and
``flush`` by ``ensure_role_groups``, a post_migrate receiver."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps as global_apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .enums import Role

ROLE_PRECEDENCE = (Role.ADMIN, Role.REVIEWER, Role.ANNOTATOR)

ANNOTATION_MODELS = (
    "project",
    "projectmembership",
    "prompt",
    "candidate",
    "candidateset",
    "candidatesetmember",
    "assignment",
    "ranking",
    "datasetsnapshot",
    "datasetsnapshotitem",
)
TRAINING_MODELS = (
    "modelversion",
    "trainingrun",
    "runmetric",
    "generationjob",
    "mergejob",
    "workernode",
)
LOOP_MODELS = ("loop", "loopround", "roundstepjob")
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.ADMIN: [
        (app, f"{action}_{model}")
        for app, models in (
            ("annotation", ANNOTATION_MODELS),
            ("training", TRAINING_MODELS),
            ("loop", LOOP_MODELS),
            ("auth", ("user",)),
        )
        for model in models
        for action in ("add", "change", "delete", "view")
    ],
    Role.REVIEWER: [("annotation", f"view_{m}") for m in ANNOTATION_MODELS]
    + [("training", f"view_{m}") for m in TRAINING_MODELS]
    + [("loop", f"view_{m}") for m in LOOP_MODELS],
    Role.ANNOTATOR: [
        ("annotation", "view_project"),
        ("annotation", "view_assignment"),
        ("annotation", "add_ranking"),
    ],
}


def ensure_role_groups(*, apps=global_apps, using: str = "default", **kwargs) -> None:
    from django.contrib.auth.management import create_permissions

    for label in ("auth", "annotation", "training", "loop"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        wanted = [
            Permission.objects.using(using).get(content_type__app_label=app, codename=codename)
            for app, codename in perms
        ]
        group.permissions.set(wanted)


def remember_role(user: AbstractBaseUser, group_names: Iterable[str]) -> Role | None:
    """Work out the user's role from their group names and keep it on the user object for
    ``user_role``."""
    role: Role | None
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = set(group_names)
        role = next((r for r in ROLE_PRECEDENCE if r.value in names), None)
    user._flywheel_role = role  # type: ignore[attr-defined]
    return role


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_flywheel_role", False)
    if cached is not False:
        return cached
    # Token authentication (``flywheel.authentication``) reads the names with the token, in one
    # query; otherwise ``groups.all()``, which uses a prefetch when present.
    names = getattr(user, "_group_names", None)
    if names is None:
        names = (group.name for group in user.groups.all())
    return remember_role(user, names)
