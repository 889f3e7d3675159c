"""Model registry, training runs and generation jobs.

Lineage goes both ways: a model version knows its parent and the run that produced it; a run
knows its dataset snapshot, its base (and reward) model and its output; a generation job knows
its model, and candidates know their job.
"""

from django.db import models
from django.db.models import Q

from annotation.enums import SetPurpose
from annotation.models import Created


class ModelKind(models.TextChoices):
    BASE = "base", "Base"
    SFT = "sft", "SFT"
    REWARD = "reward", "Reward model"
    POLICY = "policy", "Policy"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
# A generation job's independent candidate sets per prompt: three sets of 4 per prompt made
# the tiny world's prompt-dependent rules learnable (bench/RESULTS.md, issue 17); 8 bounds a
# job at 8 × the prompts.
MAX_SETS_PER_PROMPT = 8


class Job(Created):
    """What every leased job shares: its state, and the lease a worker holds on it while it
    runs (``training.engine.lifecycle`` owns every write to these fields)."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    executor = models.CharField(
        max_length=32,
        blank=True,
        help_text="Where the job's process runs (training.engine.executors); empty: the "
        "FLYWHEEL_DEFAULT_EXECUTOR setting.",
    )
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    log_tail = models.TextField(blank=True, help_text="The end of the job process's output.")
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class ModelVersion(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    storage_path = models.CharField(
        max_length=1000, blank=True, help_text="A Hugging Face model directory."
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    produced_by = models.OneToOneField(
        "TrainingRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="output_model",
    )
    adapter_base = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adapters",
        help_text="Set on a PEFT adapter (LoRA): the full model version it applies to. What "
        "loads this version loads that base, then the adapter in storage_path.",
    )
    endpoint = models.JSONField(
        default=dict,
        blank=True,
        help_text='An OpenAI-compatible server that serves this model: {"base_url", "model", '
        '"api_key_env"} (the key is read from that environment variable, never stored); '
        "empty for a model in storage_path.",
    )
    chat_template = models.TextField(blank=True, help_text="The tokenizer's chat template.")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def is_adapter(self) -> bool:
        return self.adapter_base_id is not None


class TrainingRun(Job):
    kind = models.CharField(
        max_length=32, help_text="The algorithm (training.algorithms.registry)."
    )
    dataset = models.ForeignKey(
        "annotation.DatasetSnapshot", on_delete=models.PROTECT, related_name="training_runs"
    )
    base_model = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="runs_as_base"
    )
    reward_model = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs_as_reward",
    )
    requires_reward_model = models.BooleanField(
        default=False, help_text="The algorithm is scored by a reward model (its registry entry)."
    )
    config = models.JSONField(default=dict, blank=True, help_text="The algorithm's config.")
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    final_metrics = models.JSONField(default=dict, blank=True)
    diagnostics = models.JSONField(
        null=True,
        blank=True,
        help_text="What the final metrics mean, for the algorithms that measure it (a reward "
        "run: beside the length baseline, the annotators' ceiling, calibration, per prompt "
        "group; training/apis/diagnostics.py has the shape); null for the others.",
    )
    resumed_from_step = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(requires_reward_model=False) | Q(reward_model__isnull=False),
                name="run_reward_model_when_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


class RunMetric(models.Model):
    """One logged point of a run's metrics series (loss, accuracy, rewards, KL, …)."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="metrics")
    step = models.PositiveIntegerField()
    values = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"run {self.run_id} step {self.step}"


class GenerationJob(Job):
    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="generation_jobs"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="generation_jobs"
    )
    prompt_ids = models.JSONField(help_text="The prompts to generate for, in order.")
    k = models.PositiveSmallIntegerField()
    sets_per_prompt = models.PositiveSmallIntegerField(
        default=1,
        help_text="Candidate sets of K written per prompt, each an independent draw: a "
        "preference that depends on the prompt needs several comparisons per prompt group "
        "(issue 17; bench/RESULTS.md).",
    )
    mix_model_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mixed_into_jobs",
        help_text="A second model that writes `mix_count` of each set's K candidates, so that "
        "annotators compare the two models' responses side by side.",
    )
    mix_count = models.PositiveSmallIntegerField(default=0)
    purpose = models.CharField(
        max_length=16,
        choices=SetPurpose.choices,
        default=SetPurpose.PREFERENCE,
        help_text="The purpose of the sets it writes: evaluation sets (a loop round's blind A/B "
        "of its new policy against the previous one) are never exported or trained on.",
    )
    round = models.PositiveIntegerField(default=0)
    sampling = models.JSONField(help_text="temperature, top_p, max_new_tokens, batch size")
    seed = models.BigIntegerField(default=0)
    backend = models.CharField(max_length=16, blank=True)
    done = models.PositiveIntegerField(
        default=0, help_text="Sets processed (written or skipped), of prompts × sets_per_prompt."
    )
    sets_created = models.PositiveIntegerField(default=0)
    prompts_skipped = models.PositiveIntegerField(
        default=0, help_text="Draws (one set of a prompt) that did not yield K distinct candidates."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(mix_model_version__isnull=True) & Q(mix_count=0))
                | (Q(mix_model_version__isnull=False) & Q(mix_count__gt=0)),
                name="generation_mix_model_and_count_together",
            ),
            models.CheckConstraint(
                condition=Q(sets_per_prompt__gte=1) & Q(sets_per_prompt__lte=MAX_SETS_PER_PROMPT),
                name="generation_sets_per_prompt_range",
            ),
        ]

    def __str__(self) -> str:
        return f"generation job {self.pk} ({self.status})"


class MergeJob(Job):
    """Merge a PEFT adapter version into full weights and register them as a new model version
    (``training.services.merge``): a job, since loading and merging an 8 B model takes minutes
    and the model's memory."""

    adapter = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        related_name="merge_jobs",
        help_text="The adapter version to merge (one with adapter_base).",
    )
    name = models.CharField(max_length=200, help_text="The new model version's name.")
    merged_model = models.OneToOneField(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_by",
        help_text="The full model version it registered; null until it has.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
                name="merge_name_unique_while_pending",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.SUCCEEDED) | Q(merged_model__isnull=False),
                name="merge_succeeded_has_model",
            ),
        ]

    def __str__(self) -> str:
        return f"merge job {self.pk} ({self.status})"


from training.workers import WorkerNode  # noqa: E402, F401 — the worker registry's model
