"""Annotation domain: projects, prompts, candidates, candidate sets, assignments, rankings.

Invariants that concurrency could break are held by the database (unique and check
constraints), not only by the services that write these rows.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from .enums import (
    AssignmentState,
    CandidateSetState,
    GoldSource,
    ProjectRole,
    ReviewState,
    SetPurpose,
    SnapshotSplit,
)

MIN_K, MAX_K = 2, 9


def new_salt() -> str:
    return secrets.token_hex(16)


class Created(models.Model):
    """Who created a row, and when (the user may be deleted; the row stays)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Project(Created):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    k = models.PositiveSmallIntegerField(help_text="Responses per prompt shown together (2–9).")
    annotations_per_set = models.PositiveSmallIntegerField(
        default=1, help_text="Overlap: how many annotators rank each candidate set."
    )
    guidelines = models.TextField(blank=True, help_text="Markdown shown to annotators.")
    criteria = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"flags": [name, …], "ratings": [{"name", "min", "max"}, …]}',
    )
    allow_ties = models.BooleanField(default=True)
    show_ai_suggestion = models.BooleanField(
        default=False,
        help_text="Show annotators a reward model's ranking of the set, where there is one "
        "(the loop's AI feedback); off by default, since a shown suggestion anchors people.",
    )
    lease_seconds = models.PositiveIntegerField(default=30 * 60)
    gold_rate = models.FloatField(
        default=0.0,
        help_text="Share of tasks that are gold sets (known ranking), hidden among normal tasks.",
    )
    pseudonym_salt = models.CharField(
        max_length=32,
        default=new_salt,
        editable=False,
        help_text="Salt of the stable pseudonymous annotator ids in exports.",
    )
    current_policy = models.ForeignKey(
        "training.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="policy_of_projects",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(k__gte=MIN_K) & Q(k__lte=MAX_K), name="project_k_between_2_and_9"
            ),
            models.CheckConstraint(
                condition=Q(annotations_per_set__gte=1), name="project_overlap_at_least_1"
            ),
            models.CheckConstraint(
                condition=Q(lease_seconds__gte=30), name="project_lease_min_30s"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def flag_names(self) -> list[str]:
        return list(self.criteria.get("flags", []))

    @property
    def rating_dimensions(self) -> dict[str, tuple[int, int]]:
        return {d["name"]: (d["min"], d["max"]) for d in self.criteria.get("ratings", [])}


class ProjectMembership(models.Model):
    """A user's membership of a project, with their role in it. Annotators see and are given
    tasks only in projects they are members of, reviewers review only theirs; admins see every
    project without one. A member's role in a project is at most their account's role (an
    annotator account is never a project's reviewer)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(max_length=16, choices=ProjectRole.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_once_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in ProjectRole]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in project {self.project_id} ({self.role})"


class Prompt(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prompts")
    messages = models.JSONField(help_text='[{"role": "system"|"user"|"assistant", "content"}, …]')
    source = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="prompt_external_id_unique_per_project",
            ),
        ]

    def __str__(self) -> str:
        last = self.messages[-1]["content"] if self.messages else ""
        return f"Prompt {self.pk}: {last[:60]}"


class Candidate(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="candidates")
    text = models.TextField()
    model_version = models.ForeignKey(
        "training.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidates",
    )
    model_name = models.CharField(
        max_length=200, blank=True, help_text="Name of the model that wrote it, if imported."
    )
    sampling_params = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    generation_job = models.ForeignKey(
        "training.GenerationJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidates",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Candidate {self.pk}"


class CandidateSet(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="candidate_sets")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="candidate_sets")
    candidates = models.ManyToManyField(
        Candidate, through="CandidateSetMember", related_name="candidate_sets"
    )
    round = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=16, choices=CandidateSetState.choices, default=CandidateSetState.OPEN
    )
    gold_tiers = models.JSONField(
        null=True,
        blank=True,
        help_text="Known ranking (candidate ids, best first) of a gold set; null for normal sets.",
    )
    gold_source = models.CharField(
        max_length=16, choices=GoldSource.choices, blank=True, help_text="Where the gold came from."
    )
    ai_suggestion = models.JSONField(
        null=True,
        blank=True,
        help_text="A reward model's ranking of the set: {model_version, tiers, scores}.",
    )
    purpose = models.CharField(
        max_length=16,
        choices=SetPurpose.choices,
        default=SetPurpose.PREFERENCE,
        help_text="evaluation: a blind A/B of two policies on a held-out prompt (a loop round's "
        "human evaluation); its rankings are never exported or trained on.",
    )
    adjudicated_tiers = models.JSONField(
        null=True,
        blank=True,
        help_text="A reviewer's final order of a disputed set (candidate ids in tiers, best "
        "first): the set's consensus wherever consensus is used, marked adjudicated in exports.",
    )
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "state", "id"], name="set_project_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(gold_tiers__isnull=True, gold_source="")
                | (Q(gold_tiers__isnull=False) & ~Q(gold_source="")),
                name="set_gold_tiers_and_source_together",
            ),
        ]

    def __str__(self) -> str:
        return f"Set {self.pk} (prompt {self.prompt_id}, round {self.round})"

    @property
    def is_gold(self) -> bool:
        return self.gold_tiers is not None


class CandidateSetMember(models.Model):
    candidate_set = models.ForeignKey(
        CandidateSet, on_delete=models.CASCADE, related_name="members"
    )
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="memberships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["candidate_set", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate_set", "candidate"], name="set_member_candidate_once"
            ),
            models.UniqueConstraint(
                fields=["candidate_set", "position"], name="set_member_position_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Set {self.candidate_set_id} #{self.position}: candidate {self.candidate_id}"


class Assignment(models.Model):
    """One annotator's lease on one candidate set. At most one per (set, annotator): nobody is
    handed the same set twice; an expired lease of theirs may be renewed."""

    candidate_set = models.ForeignKey(
        CandidateSet, on_delete=models.CASCADE, related_name="assignments"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    display_order = models.JSONField(help_text="Candidate ids in the order shown to the annotator.")
    state = models.CharField(
        max_length=16, choices=AssignmentState.choices, default=AssignmentState.LEASED
    )
    leased_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate_set", "annotator"], name="assignment_once_per_annotator"
            ),
        ]
        indexes = [
            models.Index(fields=["candidate_set", "state"], name="assignment_set_state_idx"),
            models.Index(fields=["annotator", "state"], name="assignment_annotator_state_idx"),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk} (set {self.candidate_set_id}, {self.state})"


# Rankings that count: not rejected, not sent back (those stay as history only).
COUNTED = ~Q(review_state__in=[ReviewState.REJECTED, ReviewState.SENT_BACK])


class Ranking(models.Model):
    """A submitted K-way ranking: tiers best → worst; candidates in one tier are tied.

    One counted ranking per assignment and per (set, annotator); a ranking a reviewer sent back
    stays beside the re-submission that replaces it (issue 18)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="rankings")
    candidate_set = models.ForeignKey(
        CandidateSet, on_delete=models.CASCADE, related_name="rankings"
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rankings"
    )
    tiers = models.JSONField(default=list, blank=True, help_text="[[id], [id, id], …] best first")
    not_rankable = models.BooleanField(default=False)
    flags = models.JSONField(default=dict, blank=True, help_text='{"<candidate id>": [flag, …]}')
    ratings = models.JSONField(
        default=dict, blank=True, help_text='{"<candidate id>": {"<dimension>": int}}'
    )
    rationale = models.TextField(blank=True)
    time_spent_seconds = models.FloatField(null=True, blank=True)
    interaction = models.JSONField(default=dict, blank=True)
    # NULL, not "", when absent: the unique constraint applies only to keys actually given.
    qc_flags = models.JSONField(
        default=list, blank=True, help_text="Signals of suspicious work found at submit time."
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    request_fingerprint = models.CharField(max_length=64, blank=True)
    # Database defaults: the submit writes rankings in SQL (services/rankings.py) and leaves
    # these out.
    review_state = models.CharField(
        max_length=16,
        choices=ReviewState.choices,
        default=ReviewState.PENDING,
        db_default=ReviewState.PENDING.value,
    )
    review_comment = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="The reviewer's reason (rejected) or comment to the annotator (sent back).",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate_set", "annotator"],
                condition=~Q(review_state=ReviewState.SENT_BACK),
                name="ranking_once_per_annotator",
            ),
            models.UniqueConstraint(
                fields=["assignment"],
                condition=~Q(review_state=ReviewState.SENT_BACK),
                name="ranking_once_per_assignment",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=[s.value for s in ReviewState]),
                name="ranking_review_state_valid",
            ),
            models.UniqueConstraint(
                fields=["annotator", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ranking_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(not_rankable=False) | Q(tiers=[]),
                name="ranking_not_rankable_has_no_tiers",
            ),
        ]

    def __str__(self) -> str:
        return f"Ranking {self.pk} (set {self.candidate_set_id})"


class DatasetSnapshot(Created):
    """An immutable, frozen selection of rankings with a prompt-grouped train/test split.
    Rankings, candidates and prompts never change once written, so exporting the same items
    always yields the same bytes; ``content_hash`` is the SHA-256 of the snapshot's ``ranked``
    export."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="snapshots")
    name = models.CharField(max_length=200)
    filters = models.JSONField(default=dict, blank=True)
    test_fraction = models.FloatField(default=0.1)
    seed = models.IntegerField(default=0)
    content_hash = models.CharField(max_length=64)
    counts = models.JSONField(default=dict)
    card = models.TextField(help_text="Dataset card (markdown).")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(test_fraction__gte=0) & Q(test_fraction__lt=1),
                name="snapshot_test_fraction_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.content_hash[:12]})"


class DatasetSnapshotItem(models.Model):
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.CASCADE, related_name="items")
    ranking = models.ForeignKey(Ranking, on_delete=models.PROTECT, related_name="snapshot_items")
    split = models.CharField(max_length=8, choices=SnapshotSplit.choices)

    class Meta:
        ordering = ["snapshot", "ranking"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "ranking"], name="snapshot_ranking_once"),
        ]

    def __str__(self) -> str:
        return f"Snapshot {self.snapshot_id}: ranking {self.ranking_id} ({self.split})"
