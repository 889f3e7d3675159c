"""REST for the training side: model registry with lineage, training runs, generation jobs."""

from __future__ import annotations

from django.db.models import Count, F, Func, IntegerField, Prefetch
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.projects import get_project_or_404
from annotation.models import DatasetSnapshot
from annotation.permissions import IsAdmin, IsReviewerOrAdmin
from flywheel.errors import ApplicationError

from .algorithms.base import config_fields
from .algorithms.registry import algorithms
from .models import GenerationJob, ModelKind, ModelVersion, RunMetric, TrainingRun
from .services.generation import SAMPLING_DEFAULTS, generation_job_cancel, generation_job_create
from .services.registry import model_version_register
from .services.runs import training_run_cancel, training_run_create


class ModelVersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    storage_path = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    children = serializers.SerializerMethodField()
    produced_by = serializers.SerializerMethodField(help_text="The run that trained it.")
    dataset = serializers.SerializerMethodField(help_text="The snapshot it was trained on.")
    used_by_runs = serializers.SerializerMethodField(help_text="Runs that start from it.")
    generation_jobs = serializers.SerializerMethodField()
    candidates_generated = serializers.IntegerField(source="candidate_count")
    metadata = serializers.JSONField()
    created_at = serializers.DateTimeField()

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


class MetricOutput(serializers.Serializer):
    step = serializers.IntegerField()
    values = serializers.JSONField()


class TrainingRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    dataset = serializers.IntegerField(source="dataset_id")
    base_model = serializers.IntegerField(source="base_model_id")
    reward_model = serializers.IntegerField(source="reward_model_id", allow_null=True)
    output_model = serializers.SerializerMethodField()
    config = serializers.JSONField()
    executor = serializers.CharField(help_text="Where it runs; empty: the default for runs.")
    cancel_requested = serializers.BooleanField()
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    progress = serializers.FloatField()
    final_metrics = serializers.JSONField()
    error = serializers.CharField()
    attempts = serializers.IntegerField()
    resumed_from_step = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_output_model(self, run) -> int | None:
        model = getattr(run, "output_model", None)
        return model.pk if model else None


class TrainingRunDetailOutput(TrainingRunOutput):
    metrics = MetricOutput(many=True, help_text="The metrics series, in logging order.")
    log_tail = serializers.CharField()


class TrainingRunInput(serializers.Serializer):
    kind = serializers.CharField(help_text="An algorithm's kind (GET /run-kinds/).")
    dataset = serializers.IntegerField(help_text="A dataset snapshot id.")
    base_model = serializers.IntegerField()
    reward_model = serializers.IntegerField(required=False, allow_null=True)
    config = serializers.DictField(required=False, default=dict)
    executor = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Where it runs (e.g. local)."
    )


class ConfigFieldOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["float", "int", "bool", "str", "choice"])
    choices = serializers.ListField(
        child=serializers.JSONField(), allow_null=True, help_text="The values a choice takes."
    )
    optional = serializers.BooleanField(help_text="null is accepted (and may be the default).")
    default = serializers.JSONField(allow_null=True)
    help = serializers.CharField(allow_blank=True)


class RunKindOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="The `kind` of POST /training-runs/.")
    label = serializers.CharField()
    view = serializers.CharField(help_text="The export view the run trains on (or prompts).")
    output_kind = serializers.CharField(help_text="The kind of model version it registers.")
    needs_reward_model = serializers.BooleanField()
    needs_reference = serializers.BooleanField(help_text="It trains against a frozen reference.")
    loop_role = serializers.CharField(
        allow_null=True, help_text="The loop step it can fill: reward, policy or none."
    )
    loop_preset = serializers.JSONField(help_text="The config a loop round starts it with.")
    config_fields = ConfigFieldOutput(
        many=True, help_text="Every key the run's `config` accepts, in declaration order."
    )


def run_kind_list() -> list[dict]:
    """Each registered algorithm with the fields of its config dataclass (no torch)."""
    return [
        {
            "kind": a.kind,
            "label": a.label,
            "view": a.view,
            "output_kind": a.output_kind,
            "needs_reward_model": a.needs_reward_model,
            "needs_reference": a.needs_reference,
            "loop_role": a.loop_role,
            "loop_preset": a.loop_preset,
            "config_fields": config_fields(a.config),
        }
        for a in algorithms()
    ]


class RunKindListApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: RunKindOutput(many=True)})
    def get(self, request: Request) -> Response:
        """The run kinds and their config fields (type, choices, default, help), read from the
        algorithms' config dataclasses: what a form for ``POST /training-runs/`` offers."""
        return Response(RunKindOutput(run_kind_list(), many=True).data)


def _get(model, pk, field):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ApplicationError(f"No such {field.replace('_', ' ')}.", field=field)
    return found


def runs_with_output():
    return TrainingRun.objects.select_related("output_model").order_by("-id")


class TrainingRunListCreateApi(generics.ListAPIView):
    """GET: training runs. POST: queue a run ``{kind, dataset, base_model, reward_model?,
    config}``; the config is validated against the algorithm's (400 for unknown keys or bad
    values, nothing queued)."""

    permission_classes = [IsAdmin]
    serializer_class = TrainingRunOutput

    def get_queryset(self):
        return runs_with_output()

    @extend_schema(request=TrainingRunInput, responses={201: TrainingRunOutput})
    def post(self, request: Request) -> Response:
        data = TrainingRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        run = training_run_create(
            kind=v["kind"],
            dataset=_get(DatasetSnapshot, v["dataset"], "dataset"),
            base_model=_get(ModelVersion, v["base_model"], "base_model"),
            reward_model=_get(ModelVersion, v.get("reward_model"), "reward_model"),
            config=v["config"],
            executor=v["executor"],
            created_by=request.user,
        )
        return Response(TrainingRunOutput(run).data, status=status.HTTP_201_CREATED)


def get_run_or_404(run_id: int) -> TrainingRun:
    run = (
        runs_with_output()
        .prefetch_related(Prefetch("metrics", queryset=RunMetric.objects.order_by("id")))
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise Http404("No such training run.")
    return run


class TrainingRunDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses={200: TrainingRunDetailOutput})
    def get(self, request: Request, run_id: int) -> Response:
        """Status, progress, the metrics series and the log tail."""
        return Response(TrainingRunDetailOutput(get_run_or_404(run_id)).data)


class TrainingRunCancelApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: TrainingRunOutput})
    def post(self, request: Request, run_id: int) -> Response:
        """Cancel: a queued run at once, a running one at its next step (409 if finished)."""
        run = training_run_cancel(run=get_run_or_404(run_id))
        return Response(TrainingRunOutput(get_run_or_404(run.pk)).data)


class GenerateInput(serializers.Serializer):
    model = serializers.IntegerField(
        required=False, help_text="Model version; default: the project's current policy."
    )
    prompts = serializers.JSONField(
        required=False, default="pending", help_text='"pending", "all" or a list of prompt ids'
    )
    sampling = serializers.DictField(
        required=False, default=dict, help_text=f"Defaults: {SAMPLING_DEFAULTS}"
    )
    seed = serializers.IntegerField(required=False, default=0, min_value=0)
    round = serializers.IntegerField(required=False, min_value=0)
    mix_model = serializers.IntegerField(
        required=False,
        help_text="A second model version that writes mix_count of each set's K candidates.",
    )
    mix_count = serializers.IntegerField(required=False, default=0, min_value=0)
    executor = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Where it runs (e.g. inline)."
    )


class GenerationJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    model_version = serializers.IntegerField(source="model_version_id")
    model_name = serializers.CharField(source="model_version.name")
    mix_model_version = serializers.IntegerField(source="mix_model_version_id", allow_null=True)
    mix_count = serializers.IntegerField()
    status = serializers.CharField()
    executor = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    k = serializers.IntegerField()
    round = serializers.IntegerField()
    sampling = serializers.JSONField()
    seed = serializers.IntegerField()
    backend = serializers.CharField()
    prompts = serializers.IntegerField(source="prompt_count")
    done = serializers.IntegerField()
    sets_created = serializers.IntegerField()
    prompts_skipped = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _job_output(job: GenerationJob) -> dict:
    job.prompt_count = len(job.prompt_ids)
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
            model_version=_get(ModelVersion, v.get("model"), "model"),
            prompts=v["prompts"],
            sampling=dict(v["sampling"]),
            seed=v["seed"],
            round=v.get("round"),
            mix_model_version=_get(ModelVersion, v.get("mix_model"), "mix_model"),
            mix_count=v["mix_count"],
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
        .defer("prompt_ids")
        .order_by("-id")
    )
    return jobs if project_id is None else jobs.filter(project_id=project_id)


class GenerationJobListApi(generics.ListAPIView):
    """Generation jobs, newest first (admin, reviewer; ``?project=`` filters)."""

    permission_classes = [IsReviewerOrAdmin]
    serializer_class = GenerationJobOutput

    def get_queryset(self):
        project = self.request.query_params.get("project", "")
        return generation_job_list(project_id=int(project) if project.isdigit() else None)

    @extend_schema(
        parameters=[OpenApiParameter("project", int, description="Only this project's jobs.")]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class GenerationJobDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses={200: GenerationJobOutput})
    def get(self, request: Request, job_id: int) -> Response:
        job = GenerationJob.objects.select_related("model_version").filter(pk=job_id).first()
        if job is None:
            raise Http404("No such generation job.")
        return Response(_job_output(job))


class GenerationJobCancelApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: GenerationJobOutput})
    def post(self, request: Request, job_id: int) -> Response:
        """Cancel: a queued job at once, a running one after its current batch (409 if
        finished); the sets already written stay."""
        job = GenerationJob.objects.select_related("model_version").filter(pk=job_id).first()
        if job is None:
            raise Http404("No such generation job.")
        job = generation_job_cancel(job=job)
        return Response(_job_output(GenerationJob.objects.get(pk=job.pk)))
