"""The simulated annotators' accounts: who they are (`sim_annotators`) and the ``sim-annotator-<i>``
users they sign in as (`sim_accounts_ensure`, the only part of the simulation that touches the
database; `annotators` needs only a base URL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .judging import Behaviour

SIM_USERNAME_PREFIX = "sim-annotator-"


@dataclass(frozen=True)
class SimAnnotator:
    """One simulated annotator: the account it signs in with and how it works."""

    username: str
    password: str
    behaviour: Behaviour = Behaviour.HONEST


def sim_annotators(
    *, n: int, password: str, behaviours: Mapping[Behaviour, int] | None = None
) -> list[SimAnnotator]:
    """``sim-annotator-1`` … ``sim-annotator-<n>``: honest ones first, then ``behaviours``'
    counts of each bad behaviour, in the order given."""
    kinds = [b for b, count in (behaviours or {}).items() for _ in range(count)]
    if len(kinds) > n:
        raise ValueError(f"{len(kinds)} annotators with a behaviour, but only {n} annotators.")
    kinds = [Behaviour.HONEST] * (n - len(kinds)) + kinds
    return [
        SimAnnotator(f"{SIM_USERNAME_PREFIX}{i}", password, behaviour)
        for i, behaviour in enumerate(kinds, start=1)
    ]


def sim_accounts_ensure(*, annotators: Sequence[SimAnnotator], project=None) -> None:
    """Make each simulated annotator's account exist, with the annotator role and its password,
    and (with ``project``) a member of the project as its annotator.

    Missing accounts are created through ``user_create`` (so the password validators apply).
    Existing ones get the run's password, because the simulation owns these accounts and a run
    cannot know the password a previous run chose. An existing account with another role is
    refused rather than demoted or used: it is someone's real account.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotation.enums import Role
    from annotation.roles import user_role
    from annotation.services.users import user_create
    from flywheel.errors import ApplicationError

    User = get_user_model()
    with transaction.atomic():
        for annotator in annotators:
            user = User.objects.filter(username__iexact=annotator.username).first()
            if user is None:
                user_create(
                    username=annotator.username, password=annotator.password, role=Role.ANNOTATOR
                )
                continue
            if user_role(user) != Role.ANNOTATOR:
                raise ApplicationError(
                    f"{user.username} exists and is not an annotator; "
                    "the simulation only uses annotator accounts.",
                    code="conflict",
                    status=409,
                )
            if not user.check_password(annotator.password):
                user.set_password(annotator.password)
                user.save(update_fields=["password"])
        if project is not None:
            from annotation.enums import ProjectRole
            from annotation.services.memberships import members_add

            members_add(
                project=project,
                users=[a.username for a in annotators],
                role=ProjectRole.ANNOTATOR,
                by=None,
            )
