"""The model registry: model versions with lineage both ways, registering a local model, and
merging an adapter version into a full one (a merge job)."""

from __future__ import annotations

from pathlib import Path

from django.db.models import Count, Prefetch
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.permissions import IsAdmin
from flywheel.errors import ApplicationError, found_or_404
from flywheel.ids import IdField
from flywheel.serializers import ModelOutput

from ..models import GenerationJob, MergeJob, ModelKind, ModelVersion, TrainingRun
from ..services.merge import merge_job_create
from ..services.registry import model_version_register, within_model_roots
from ..weights_archive import archive_chunks, archive_members, archive_size


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
    parent = IdField(required=False)


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
        adapter = self.request.query_params.get("adapter", "")
        if adapter in ("true", "false"):
            return model_list().filter(adapter_base__isnull=adapter == "false")
        return model_list()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "adapter", bool, description="true: only adapters; false: only full models."
            )
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

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


class MergeInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="The new model version's name.")


class MergeJobOutput(ModelOutput):
    """A merge job: its state, and once it succeeded the full model version it registered."""

    adapter_name = serializers.CharField(source="adapter.name")

    class Meta:
        model = MergeJob
        fields = (
            "id adapter adapter_name name status merged_model error attempts created_at "
            "started_at finished_at"
        ).split()


def get_merge_job_or_404(job_id: int) -> MergeJob:
    job = MergeJob.objects.select_related("adapter").filter(pk=job_id).first()
    return found_or_404(job, "merge job")


class ModelMergeApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=MergeInput, responses={202: MergeJobOutput})
    def post(self, request: Request, model_id: int) -> Response:
        """Merge an adapter version into full weights, registered by a worker as a new model
        version whose parent is the adapter; ``GET /merge-jobs/{id}/`` follows the job."""
        adapter = found_or_404(ModelVersion.objects.filter(pk=model_id).first(), "model")
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = merge_job_create(
            adapter=adapter, name=data.validated_data["name"], created_by=request.user
        )
        return Response(MergeJobOutput(job).data, status=status.HTTP_202_ACCEPTED)


class MergeJobDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses={200: MergeJobOutput})
    def get(self, request: Request, job_id: int) -> Response:
        return Response(MergeJobOutput(get_merge_job_or_404(job_id)).data)


def _weights_dir(model: ModelVersion) -> Path:
    """The version's directory, when its weights are on this server's storage inside the model
    roots; a 409 that says why not otherwise (nothing is sent from elsewhere)."""
    if model.endpoint:
        raise ApplicationError(
            f"{model.name} is served by an endpoint ({model.endpoint.get('base_url', '')}); its "
            "weights are not held here.",
            status=409,
            code="no_weights",
        )
    directory = Path(model.storage_path).resolve()
    if not model.storage_path or not within_model_roots(directory):
        raise ApplicationError(
            f"{model.name}'s directory is outside the model roots; it is not sent.",
            status=409,
            code="no_weights",
        )
    if not directory.is_dir():
        raise ApplicationError(
            f"{model.name}'s directory {directory} is not on this server's storage.",
            status=409,
            code="no_weights",
        )
    return directory


class ModelDownloadApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        responses={
            (200, "application/x-tar"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A tar archive of the version's directory (its files, relative "
                "names). An adapter version holds the adapter only: load its "
                "``adapter_base`` first, or merge it (``POST /models/{id}/merge/``).",
            ),
            409: OpenApiResponse(description="The weights are not held on this server."),
        }
    )
    def get(self, request: Request, model_id: int) -> StreamingHttpResponse:
        """Download a model version's weights, tokenizer and config as a tar archive, streamed
        (admins). ``Content-Length`` is exact; the same version always gives the same bytes."""
        model = found_or_404(ModelVersion.objects.filter(pk=model_id).first(), "model")
        members = archive_members(_weights_dir(model))
        response = StreamingHttpResponse(archive_chunks(members), content_type="application/x-tar")
        response["Content-Length"] = str(archive_size(members))
        response["Content-Disposition"] = f'attachment; filename="model-{model.pk}.tar"'
        return response
