"""Model registry. Issue #4 adds runs, generation jobs and storage handling; the annotation side
needs model versions already, to link candidates and a project's current policy."""

from django.db import models


class ModelKind(models.TextChoices):
    BASE = "base", "Base"
    SFT = "sft", "SFT"
    REWARD = "reward", "Reward model"
    POLICY = "policy", "Policy"


class ModelVersion(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    storage_path = models.CharField(max_length=1000, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
