from django.contrib import admin

from .models import GenerationJob, MergeJob, ModelVersion, RunMetric, TrainingRun
from .workers import WorkerNode

# A job's lease: training.engine.lifecycle writes these, never a person.
LEASE_FIELDS = ("heartbeat_at", "started_at", "finished_at", "worker", "attempts")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "kind", "parent", "produced_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "storage_path")
    raw_id_fields = ("parent", "produced_by", "adapter_base")


class RunMetricInline(admin.TabularInline):
    model = RunMetric
    extra = 0
    can_delete = False
    readonly_fields = ("step", "values", "created_at")


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "dataset",
        "base_model",
        "step",
        "total_steps",
        "attempts",
        "created_at",
    )
    list_filter = ("kind", "status")
    raw_id_fields = ("dataset", "base_model", "reward_model", "created_by")
    readonly_fields = (*LEASE_FIELDS, "resumed_from_step")
    inlines = [RunMetricInline]


@admin.register(RunMetric)
class RunMetricAdmin(admin.ModelAdmin):
    list_display = ("id", "run", "step", "created_at")
    raw_id_fields = ("run",)


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "project",
        "model_version",
        "status",
        "done",
        "sets_created",
        "prompts_skipped",
        "round",
        "created_at",
    )
    list_filter = ("status",)
    raw_id_fields = ("project", "model_version", "created_by")


@admin.register(MergeJob)
class MergeJobAdmin(admin.ModelAdmin):
    list_display = ("id", "adapter", "name", "status", "merged_model", "attempts", "created_at")
    list_filter = ("status",)
    search_fields = ("name",)
    raw_id_fields = ("adapter", "merged_model", "created_by")
    readonly_fields = LEASE_FIELDS


@admin.register(WorkerNode)
class WorkerNodeAdmin(admin.ModelAdmin):
    """What each worker reported (read-only: workers write these rows themselves)."""

    list_display = ("name", "queues", "gpus", "bitsandbytes", "vllm", "seen_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
