from django.contrib import admin

from .models import Loop, LoopRound, RoundStepJob


@admin.register(Loop)
class LoopAdmin(admin.ModelAdmin):
    list_display = (
        "project",
        "auto",
        "trigger",
        "policy_kind",
        "prompt_selection",
        "ai_feedback",
        "require_confirmation",
    )
    list_filter = ("auto", "policy_kind", "prompt_selection")


@admin.register(LoopRound)
class LoopRoundAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "loop",
        "number",
        "status",
        "step",
        "verdict",
        "decision",
        "policy_kind",
        "created_at",
    )
    list_filter = ("status", "step", "verdict", "decision", "policy_kind")
    raw_id_fields = (
        "base_policy",
        "snapshot",
        "reward_run",
        "policy_run",
        "reward_model",
        "policy_model",
        "judge_run",
        "judge_model",
        "generation_job",
        "started_by",
        "decided_by",
    )


@admin.register(RoundStepJob)
class RoundStepJobAdmin(admin.ModelAdmin):
    list_display = ("id", "round", "step", "status", "attempts", "worker", "heartbeat_at")
    list_filter = ("status", "step")
    raw_id_fields = ("round", "created_by")
