"""Generation jobs: start one for a project, list, read and cancel them."""

from __future__ import annotations

from django.db.models import F, Func, IntegerField
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access import reviewable
from annotation.apis.projects import get_project_or_404
from annotation.enums import SetPurpose
from annotation.models import MAX_K
from annotation.permissions import IsAdmin, IsReviewerOrAdmin
from flywheel.errors import found_or_404
from flywheel.ids import IdField, query_id
from flywheel.serializers import ModelOutput

from ..models import MAX_SETS_PER_PROMPT, GenerationJob, ModelVersion
from ..services.generation import SAMPLING_DEFAULTS, generation_job_cancel, generation_job_create
from . import related_or_400


class GenerateInput(serializers.Serializer):
    model = IdField(
        required=False, help_text="Model version; default: the project's current policy."
    )
    prompts = serializers.JSONField(
        required=False, default="pending", help_text='"pending", "all" or a list of prompt ids'
    )
    sampling = serializers.DictField(
        required=False, default=dict, help_text=f"Defaults: {SAMPLING_DEFAULTS}"
    )
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)
    round = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    mix_model = IdField(
        required=False,
        help_text="A second model version that writes mix_count of each set's K candidates.",
    )
    mix_count = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_K)
    sets_per_prompt = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=MAX_SETS_PER_PROMPT,
        help_text="Independent sets of K per prompt, each annotated on its own: a preference "
        "that depends on the prompt needs several comparisons per prompt group.",
    )
    purpose = serializers.ChoiceField(
        choices=SetPurpose.choices,
        required=False,
        default=SetPurpose.PREFERENCE,
        help_text="evaluation: blind A/B sets of the model against mix_model (needs mix_model), "
        "ranked like any set, feeding the human leaderboard, never exported or trained on.",
    )
    executor = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Where it runs (e.g. inline)."
    )


class GenerationJobOutput(ModelOutput):
    model_name = serializers.CharField(source="model_version.name")
    prompts = serializers.IntegerField(source="prompt_count")
    sets_total = serializers.IntegerField(help_text="prompts × sets_per_prompt: done's total.")

    class Meta:
        model = GenerationJob
        fields = (
            "id project model_version model_name mix_model_version mix_count purpose status "
            "executor cancel_requested k sets_per_prompt round sampling seed backend prompts "
            "sets_total done sets_created prompts_skipped error created_at finished_at"
        ).split()


def _job_output(job: GenerationJob) -> dict:
    job.prompt_count = len(job.prompt_ids)
    job.sets_total = job.prompt_count * job.sets_per_prompt
    return GenerationJobOutput(job).data


class GenerateApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=GenerateInput, responses={202: GenerationJobOutput})
    def post(self, request: Request, project_id: int) -> Response:
        """Start a generation job: K candidates per prompt from the project's policy (or the
        named model), written as candidate sets of a new round."""
        project = get_project_or_404(project_id)
        data = GenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        job = generation_job_create(
            project=project,
            model_version=related_or_400(ModelVersion, v.get("model"), "model"),
            prompts=v["prompts"],
            sampling=dict(v["sampling"]),
            seed=v["seed"],
            round=v.get("round"),
            mix_model_version=related_or_400(ModelVersion, v.get("mix_model"), "mix_model"),
            mix_count=v["mix_count"],
            sets_per_prompt=v["sets_per_prompt"],
            purpose=v["purpose"],
            executor=v["executor"],
            created_by=request.user,
        )
        return Response(_job_output(job), status=status.HTTP_202_ACCEPTED)


def generation_job_list(*, project_id: int | None = None):
    """Newest first, with the prompt count read in the database (``prompt_ids`` can be long)."""
    jobs = (
        GenerationJob.objects.select_related("model_version")
        .annotate(
            prompt_count=Func(
                F("prompt_ids"), function="jsonb_array_length", output_field=IntegerField()
            )
        )
        .annotate(sets_total=F("prompt_count") * F("sets_per_prompt"))
        .defer("prompt_ids")
        .order_by("-id")
    )
    return jobs if project_id is None else jobs.filter(project_id=project_id)


class GenerationJobListApi(generics.ListAPIView):
    """Generation jobs, newest first (admin, reviewer; ``?project=`` filters)."""

    permission_classes = [IsReviewerOrAdmin]
    serializer_class = GenerationJobOutput

    def get_queryset(self):
        jobs = generation_job_list(project_id=query_id(self.request.query_params, "project"))
        return jobs.filter(reviewable(self.request.user))

    @extend_schema(
        parameters=[OpenApiParameter("project", int, description="Only this project's jobs.")]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


def get_job_or_404(job_id: int) -> GenerationJob:
    job = GenerationJob.objects.select_related("model_version").filter(pk=job_id).first()
    return found_or_404(job, "generation job")


class GenerationJobDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses={200: GenerationJobOutput})
    def get(self, request: Request, job_id: int) -> Response:
        return Response(_job_output(get_job_or_404(job_id)))


class GenerationJobCancelApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: GenerationJobOutput})
    def post(self, request: Request, job_id: int) -> Response:
        """Cancel: a queued job at once, a running one after its current batch (409 if
        finished); the sets already written stay."""
        job = generation_job_cancel(job=get_job_or_404(job_id))
        return Response(_job_output(get_job_or_404(job.pk)))
