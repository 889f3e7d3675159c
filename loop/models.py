"""The feedback loop: per-project settings for automated rounds, and each round's steps.

A round turns the crank once: snapshot the project's rankings → train a reward model (and a
judge reward model on the held-out split) → train the policy (DPO by default; PPO / GRPO
selectable) → evaluate it → promote it to the project's current policy when the independent
evaluation confirms the gain (otherwise wait for a human decision, issue 17) → generate the
next round's candidates. Every step is an ordinary platform
object (a DatasetSnapshot, TrainingRuns, a GenerationJob) that the round links to, so lineage
reads straight off the round: round-2 candidates → their generation job → the round-1 policy →
its DPO run → the snapshot → the rankings.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from training.models import Job


class PromptSelection(models.TextChoices):
    RANDOM = "random", "Random"
    UNCERTAINTY = "uncertainty", "Least certain reward model (active learning)"


class Trigger(models.TextChoices):
    ROUND_COMPLETE = "round_complete", "When the round's sets are complete"
    NEW_RANKINGS = "new_rankings", "When N new rankings arrived"


class SnapshotScope(models.TextChoices):
    NEW = "new", "Rankings since the previous round (on-policy)"
    ALL = "all", "All rankings so far"


class Oracle(models.TextChoices):
    NONE = "none", "None"
    TINYWORLD = "tinyworld", "Tiny world hidden rule"
    TINYWORLD_TOPIC = "tinyworld-topic", "Tiny world hidden rule: closing by topic"
    TINYWORLD_TEMPLATE = "tinyworld-template", "Tiny world hidden rule: closing by template"


class Loop(models.Model):
    """How a project's rounds run. One per project, created on first use with defaults."""

    project = models.OneToOneField(
        "annotation.Project", on_delete=models.CASCADE, related_name="loop"
    )
    auto = models.BooleanField(
        default=False, help_text="Start a round by itself when the trigger fires."
    )
    trigger = models.CharField(
        max_length=20, choices=Trigger.choices, default=Trigger.ROUND_COMPLETE
    )
    min_new_rankings = models.PositiveIntegerField(
        default=100, help_text="new_rankings trigger: rankings since the last round's snapshot."
    )
    policy_kind = models.CharField(
        max_length=32,
        default="dpo",
        help_text="The policy step's algorithm: a registered one whose loop role is policy.",
    )
    reward_config = models.JSONField(default=dict, blank=True)
    adapter = models.JSONField(
        null=True,
        blank=True,
        default=None,
        help_text="A PEFT adapter block (a run config's `adapter`) for every round's reward and "
        "policy runs: each round trains new adapters on the previous round's policy; null: full "
        "fine-tuning.",
    )
    policy_config = models.JSONField(default=dict, blank=True)
    sampling = models.JSONField(default=dict, blank=True, help_text="Generation sampling.")
    prompt_selection = models.CharField(
        max_length=16, choices=PromptSelection.choices, default=PromptSelection.RANDOM
    )
    prompts_per_round = models.PositiveIntegerField(
        null=True, blank=True, help_text="Prompts to generate for per round; empty: all."
    )
    snapshot_scope = models.CharField(
        max_length=8,
        choices=SnapshotScope.choices,
        default=SnapshotScope.NEW,
        help_text="Which rankings a round trains on. new: those since the previous round's "
        "snapshot, i.e. preferences over the current policy's own samples (iterative DPO, Xu "
        "et al. 2023; Xiong et al. 2024); all: every ranking of the project.",
    )
    compare_with_previous = models.PositiveSmallIntegerField(
        default=0,
        help_text="Of each new set's K candidates, how many the previous policy writes, so "
        "annotators compare new and old side by side (the human leaderboard); 0: none.",
    )
    sets_per_prompt = models.PositiveSmallIntegerField(
        default=1,
        help_text="Candidate sets of K per prompt in each round's generation, independent "
        "draws: a preference that depends on the prompt needs several comparisons per prompt "
        "group (issue 17).",
    )
    human_eval_prompts = models.PositiveSmallIntegerField(
        default=0,
        help_text="Blind human evaluation: after its automatic evaluation each round asks the "
        "annotators to rank its new policy against the previous one on this many held-out "
        "prompts (the snapshot's test split; A/B order drawn per annotator) and waits for those "
        "rankings before its verdict; 0: off.",
    )
    test_fraction = models.FloatField(default=0.2)
    eval_prompts = models.JSONField(
        default=list,
        blank=True,
        help_text="Held-out prompts (lists of messages) for evaluation; never annotated.",
    )
    eval_samples_per_prompt = models.PositiveSmallIntegerField(default=4)
    eval_max_new_tokens = models.PositiveIntegerField(default=64)
    oracle = models.CharField(
        max_length=32,
        choices=Oracle.choices,
        default=Oracle.NONE,
        help_text="A known rule to score policy samples by (the tiny world's trait rate).",
    )
    ai_feedback = models.BooleanField(
        default=False, help_text="The current reward model pre-ranks each new set."
    )
    require_confirmation = models.BooleanField(
        default=True,
        help_text="Promote a round's policy only when the independent evaluation confirms it "
        "(verdict confirmed); an unconfirmed round waits for a human decision. Off: every "
        "round's policy is promoted, whatever its verdict.",
    )
    seed = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"loop of project {self.project_id}"


class RoundStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    AWAITING_DECISION = "awaiting_decision", "Awaiting a decision"


# A round that holds the loop: at most one per loop, and no other round starts beside it.
OPEN_STATUSES = (RoundStatus.RUNNING, RoundStatus.AWAITING_DECISION)


class Verdict(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"


class Decision(models.TextChoices):
    PROMOTED = "promoted", "Promoted"
    REJECTED = "rejected", "Rejected"


class RoundStep(models.TextChoices):
    SNAPSHOT = "snapshot", "Snapshot"
    REWARD = "reward", "Reward model"
    POLICY = "policy", "Policy"
    EVALUATE = "evaluate", "Evaluate"
    HUMAN_EVAL = "human_eval", "Human A/B evaluation"
    DECIDE = "decide", "Decision"
    GENERATE = "generate", "Generate"
    AI_FEEDBACK = "ai_feedback", "AI pre-ranking"
    DONE = "done", "Done"


STEP_ORDER = [s.value for s in RoundStep]


class LoopRound(models.Model):
    loop = models.ForeignKey(Loop, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=RoundStatus.choices, default=RoundStatus.RUNNING
    )
    step = models.CharField(max_length=16, choices=RoundStep.choices, default=RoundStep.SNAPSHOT)
    error = models.TextField(blank=True)
    policy_kind = models.CharField(max_length=32)
    base_policy = models.ForeignKey(
        "training.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.ForeignKey(
        "annotation.DatasetSnapshot", null=True, blank=True, on_delete=models.PROTECT
    )
    reward_run = models.ForeignKey(
        "training.TrainingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    policy_run = models.ForeignKey(
        "training.TrainingRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reward_model = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    policy_model = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    judge_run = models.ForeignKey(
        "training.TrainingRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A reward run on the snapshot's test split (splits swapped): a judge that "
        "did not train the policy, for the independent win-rate.",
    )
    judge_model = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    generation_job = models.ForeignKey(
        "training.GenerationJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    human_eval_job = models.ForeignKey(
        "training.GenerationJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The blind A/B sets of the round's human evaluation: the new policy against "
        "the previous one on held-out prompts.",
    )
    selected_prompts = models.JSONField(default=list, blank=True)
    selection = models.JSONField(
        default=dict, blank=True, help_text="How the next round's prompts were chosen."
    )
    evaluation = models.JSONField(default=dict, blank=True)
    verdict = models.CharField(
        max_length=16,
        choices=Verdict.choices,
        blank=True,
        help_text="After evaluation: confirmed when the independent evaluation confirms the "
        "reward model's gain (loop/services/verdict.py).",
    )
    verdict_reasons = models.JSONField(default=list, blank=True)
    decision = models.CharField(
        max_length=16,
        choices=Decision.choices,
        blank=True,
        help_text="Whether the policy was promoted to the current policy; decided_by empty: "
        "automatically.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    step_seconds = models.JSONField(default=dict, blank=True, help_text="Wall time per step.")
    step_started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["loop", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loop", "number"], name="loop_round_number_unique"),
            models.UniqueConstraint(
                fields=["loop"],
                condition=Q(status__in=OPEN_STATUSES),
                name="loop_one_open_round",
            ),
            models.CheckConstraint(
                condition=~Q(status=RoundStatus.AWAITING_DECISION)
                | Q(verdict=Verdict.UNCONFIRMED, decision=""),
                name="loop_round_awaits_only_unconfirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"round {self.number} of project {self.loop.project_id} ({self.status})"


class RoundStepJob(Job):
    """A round's worker step (evaluation and prompt selection, or AI pre-ranking) as a leased
    job of the engine (``training.engine``): acquired once, kept alive by its heartbeat, sent
    again when its worker dies, failed after its attempts. Its process function records the
    step's results on the round and moves the round on."""

    round = models.ForeignKey(LoopRound, on_delete=models.CASCADE, related_name="step_jobs")
    step = models.CharField(max_length=16, choices=RoundStep.choices)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="step_status_heartbeat_idx")
        ]

    def __str__(self) -> str:
        return f"{self.step} job {self.pk} of round {self.round_id} ({self.status})"
