from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils.text import slugify

from flywheel.errors import ApplicationError

from ..models import Project
from ..validation import check_criteria, check_k

DEFAULT_LEASE_SECONDS = 30 * 60
BOUNDS = {"annotations_per_set": (1, 100), "lease_seconds": (30, 7 * 24 * 3600)}


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "project"
    slug, n = base, 2
    while Project.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_project_fields(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if "k" in fields:
        errors.update(check_k(fields["k"]))
    for name, (low, high) in BOUNDS.items():
        value = fields.get(name)
        if value is not None and (not isinstance(value, int) or not low <= value <= high):
            errors.setdefault(name, []).append(f"Must be an integer from {low} to {high}.")
    rate = fields.get("gold_rate")
    if rate is not None and not (isinstance(rate, int | float) and 0 <= rate <= 0.5):
        errors.setdefault("gold_rate", []).append("Must be a number from 0 to 0.5.")
    if "criteria" in fields:
        fields["criteria"], criteria_errors = check_criteria(fields["criteria"])
        errors.update(criteria_errors)
    if "slug" in fields and Project.objects.filter(slug=fields["slug"]).exists():
        errors.setdefault("slug", []).append("A project with this slug already exists.")
    if errors:
        raise ApplicationError("Invalid input.", errors=errors)
    return fields


@transaction.atomic
def project_create(
    *,
    name: str,
    k: int,
    annotations_per_set: int = 1,
    guidelines: str = "",
    criteria: dict[str, Any] | None = None,
    allow_ties: bool = True,
    show_ai_suggestion: bool = False,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
    gold_rate: float = 0.0,
    slug: str | None = None,
    created_by: AbstractUser | None = None,
) -> Project:
    fields = _check_project_fields(
        {
            "k": k,
            "criteria": criteria or {},
            "annotations_per_set": annotations_per_set,
            "lease_seconds": lease_seconds,
            "gold_rate": gold_rate,
        }
        | ({"slug": slug} if slug else {})
    )
    return Project.objects.create(
        name=name,
        slug=slug or _unique_slug(name),
        k=k,
        annotations_per_set=annotations_per_set,
        guidelines=guidelines,
        criteria=fields["criteria"],
        allow_ties=allow_ties,
        show_ai_suggestion=show_ai_suggestion,
        lease_seconds=lease_seconds,
        gold_rate=fields["gold_rate"],
        created_by=created_by,
    )


# K fixes the shape of every candidate set already imported, so it cannot change later.
UPDATABLE_FIELDS = {
    "gold_rate",
    "name",
    "guidelines",
    "criteria",
    "allow_ties",
    "show_ai_suggestion",
    "lease_seconds",
    "annotations_per_set",
}


@transaction.atomic
def project_update(*, project: Project, **changes: Any) -> Project:
    locked = Project.objects.select_for_update().get(pk=project.pk)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ApplicationError(
            "Invalid input.", errors={name: ["Cannot be changed."] for name in sorted(unknown)}
        )
    changes = _check_project_fields(dict(changes))
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(changes))
    return locked
