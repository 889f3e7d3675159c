"""The model registry: model versions with lineage both ways, and registering a local model."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.permissions import IsAdmin
from flywheel.errors import ApplicationError
from flywheel.serializers import ModelOutput

from ..models import GenerationJob, ModelKind, ModelVersion, TrainingRun
from ..services.registry import model_version_register


class ModelVersionOutput(ModelOutput):
    children = serializers.SerializerMethodField()
    produced_by = serializers.SerializerMethodField(help_text="The run that trained it.")
    dataset = serializers.SerializerMethodField(help_text="The snapshot it was trained on.")
    used_by_runs = serializers.SerializerMethodField(help_text="Runs that start from it.")
    generation_jobs = serializers.SerializerMethodField()
    candidates_generated = serializers.IntegerField(source="candidate_count")

    class Meta:
        model = ModelVersion
        fields = (
            "id name kind storage_path parent adapter_base endpoint children produced_by dataset "
            "used_by_runs "
            "generation_jobs candidates_generated metadata created_at"
        ).split()

    def get_children(self, model) -> list[int]:
        return [c.pk for c in model.children.all()]

    def get_produced_by(self, model) -> int | None:
        run = getattr(model, "produced_by", None)
        return run.pk if run else None

    def get_dataset(self, model) -> int | None:
        run = getattr(model, "produced_by", None)
        return run.dataset_id if run else None

    def get_used_by_runs(self, model) -> list[int]:
        return [r.pk for r in model.runs_as_base.all()] + [r.pk for r in model.runs_as_reward.all()]

    def get_generation_jobs(self, model) -> list[int]:
        return [j.pk for j in model.generation_jobs.all()]


class ModelRegisterInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    path = serializers.CharField(max_length=1000, help_text="A local Hugging Face model dir.")
    kind = serializers.ChoiceField(choices=ModelKind.choices, default=ModelKind.BASE)
    parent = serializers.IntegerField(required=False)


def model_list():
    return (
        ModelVersion.objects.select_related("produced_by")
        .prefetch_related(
            Prefetch("children", queryset=ModelVersion.objects.only("id", "parent_id")),
            Prefetch("runs_as_base", queryset=TrainingRun.objects.only("id", "base_model_id")),
            Prefetch("runs_as_reward", queryset=TrainingRun.objects.only("id", "reward_model_id")),
            Prefetch(
                "generation_jobs", queryset=GenerationJob.objects.only("id", "model_version_id")
            ),
        )
        .annotate(candidate_count=Count("candidates", distinct=True))
        .order_by("id")
    )


class ModelListRegisterApi(generics.ListAPIView):
    """GET: model versions with lineage both ways. POST: register a local Hugging Face model
    directory (how real deployments plug in Qwen / Llama checkpoints)."""

    permission_classes = [IsAdmin]
    serializer_class = ModelVersionOutput

    def get_queryset(self):
        return model_list()

    @extend_schema(request=ModelRegisterInput, responses={201: ModelVersionOutput})
    def post(self, request: Request) -> Response:
        data = ModelRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        parent = None
        if "parent" in v:
            parent = ModelVersion.objects.filter(pk=v["parent"]).first()
            if parent is None:
                raise ApplicationError("No such model.", field="parent")
        model = model_version_register(
            name=v["name"], path=v["path"], kind=v["kind"], parent=parent
        )
        return Response(ModelVersionOutput(model_list().get(pk=model.pk)).data, status=201)
