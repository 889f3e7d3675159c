from django.contrib import admin

from .models import (
    Assignment,
    Candidate,
    CandidateSet,
    CandidateSetMember,
    DatasetSnapshot,
    DatasetSnapshotItem,
    Project,
    ProjectMembership,
    Prompt,
    Ranking,
)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "slug", "k", "annotations_per_set", "allow_ties", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("current_policy", "created_by")


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "user", "role", "added_by", "added_at")
    list_filter = ("project", "role")
    search_fields = ("user__username",)
    raw_id_fields = ("project", "user", "added_by")


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
    list_display = (
        "id",
        "candidate_set",
        "annotator",
        "not_rankable",
        "review_state",
        "created_at",
    )
    list_filter = ("not_rankable", "review_state")
    search_fields = ("annotator__username", "idempotency_key")
    raw_id_fields = ("assignment", "candidate_set", "annotator", "reviewed_by")
    readonly_fields = ("created_at", "request_fingerprint")


class DatasetSnapshotItemInline(admin.TabularInline):
    model = DatasetSnapshotItem
    raw_id_fields = ("ranking",)
    extra = 0
    can_delete = False
    max_num = 0  # snapshots are immutable


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "project", "content_hash", "created_at")
    list_filter = ("project",)
    search_fields = ("name", "content_hash")
    readonly_fields = [f.name for f in DatasetSnapshot._meta.fields]
    inlines = [DatasetSnapshotItemInline]

    def has_add_permission(self, request) -> bool:
        return False  # created through the API / service, which freezes and hashes them


@admin.register(DatasetSnapshotItem)
class DatasetSnapshotItemAdmin(admin.ModelAdmin):
    list_display = ("id", "snapshot", "ranking", "split")
    list_filter = ("split",)
    raw_id_fields = ("snapshot", "ranking")
    readonly_fields = ("snapshot", "ranking", "split")

    def has_add_permission(self, request) -> bool:
        return False
