from django.contrib import admin

from .models import (
    Assignment,
    Candidate,
    CandidateSet,
    CandidateSetMember,
    Project,
    Prompt,
    Ranking,
)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "slug", "k", "annotations_per_set", "allow_ties", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("current_policy", "created_by")


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "external_id", "source", "created_at")
    list_filter = ("project",)
    search_fields = ("external_id", "source")
    raw_id_fields = ("project",)


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("id", "prompt", "model_name", "model_version", "seed", "created_at")
    search_fields = ("model_name",)
    raw_id_fields = ("prompt", "model_version")


class CandidateSetMemberInline(admin.TabularInline):
    model = CandidateSetMember
    raw_id_fields = ("candidate",)
    extra = 0


@admin.register(CandidateSet)
class CandidateSetAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "prompt", "round", "state", "created_at", "completed_at")
    list_filter = ("project", "state", "round")
    raw_id_fields = ("project", "prompt")
    inlines = [CandidateSetMemberInline]


@admin.register(CandidateSetMember)
class CandidateSetMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "candidate_set", "candidate", "position")
    raw_id_fields = ("candidate_set", "candidate")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("id", "candidate_set", "annotator", "state", "leased_at", "lease_expires_at")
    list_filter = ("state",)
    search_fields = ("annotator__username",)
    raw_id_fields = ("candidate_set", "annotator")


@admin.register(Ranking)
class RankingAdmin(admin.ModelAdmin):
    list_display = ("id", "candidate_set", "annotator", "not_rankable", "created_at")
    list_filter = ("not_rankable",)
    search_fields = ("annotator__username", "idempotency_key")
    raw_id_fields = ("assignment", "candidate_set", "annotator")
    readonly_fields = ("created_at", "request_fingerprint")
