"""Training runs (create, read, cancel) and the algorithms they can run, with config schemas."""

from __future__ import annotations

import dataclasses

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import DatasetSnapshot
from annotation.permissions import IsAdmin, IsReviewerOrAdmin
from flywheel.errors import found_or_404
from flywheel.ids import IdField
from flywheel.serializers import ModelOutput

from ..algorithms.base import config_fields
from ..algorithms.registry import algorithms
from ..models import ModelVersion, RunMetric, TrainingRun
from ..services.runs import training_run_cancel, training_run_create
from . import related_or_400
from .diagnostics import RunDiagnosticsOutput


class MetricOutput(serializers.Serializer):
    step = serializers.IntegerField()
    values = serializers.JSONField()


class TrainingRunOutput(ModelOutput):
    output_model = serializers.SerializerMethodField()
    executor = serializers.CharField(help_text="Where it runs; empty: the default for runs.")
    progress = serializers.FloatField()

    class Meta:
        model = TrainingRun
        fields = (
            "id kind status dataset base_model reward_model output_model config executor "
            "cancel_requested step total_steps progress final_metrics error attempts "
            "resumed_from_step created_at started_at finished_at"
        ).split()

    def get_output_model(self, run) -> int | None:
        model = getattr(run, "output_model", None)
        return model.pk if model else None


class TrainingRunDetailOutput(TrainingRunOutput):
    metrics = MetricOutput(many=True, help_text="The metrics series, in logging order.")
    log_tail = serializers.CharField()
    diagnostics = RunDiagnosticsOutput(
        allow_null=True,
        help_text="What the final metrics mean (a reward run's); null for other kinds and "
        "until the run succeeds.",
    )


class TrainingRunInput(serializers.Serializer):
    kind = serializers.CharField(help_text="An algorithm's kind (GET /run-kinds/).")
    dataset = IdField(help_text="A dataset snapshot id.")
    base_model = IdField()
    reward_model = IdField(required=False, allow_null=True)
    config = serializers.DictField(required=False, default=dict)
    executor = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Where it runs (e.g. local)."
    )


class ConfigFieldOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["float", "int", "bool", "str", "choice", "block"])
    choices = serializers.ListField(
        child=serializers.JSONField(), allow_null=True, help_text="The values a choice takes."
    )
    optional = serializers.BooleanField(help_text="null is accepted (and may be the default).")
    default = serializers.JSONField(allow_null=True)
    help = serializers.CharField(allow_blank=True)
    fields = serializers.JSONField(
        allow_null=True,
        help_text="A block's own fields, each shaped like this one; null for other types. The "
        "block takes an object of them, or null (off).",
    )


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
            "config_fields": [dataclasses.asdict(f) for f in config_fields(a.config)],
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
            dataset=related_or_400(DatasetSnapshot, v["dataset"], "dataset"),
            base_model=related_or_400(ModelVersion, v["base_model"], "base_model"),
            reward_model=related_or_400(ModelVersion, v.get("reward_model"), "reward_model"),
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
    return found_or_404(run, "training run")


class TrainingRunDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses={200: TrainingRunDetailOutput})
    def get(self, request: Request, run_id: int) -> Response:
        """Status, progress, the metrics series, the log tail and the diagnostics."""
        return Response(TrainingRunDetailOutput(get_run_or_404(run_id)).data)


class TrainingRunCancelApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: TrainingRunOutput})
    def post(self, request: Request, run_id: int) -> Response:
        """Cancel: a queued run at once, a running one at its next step (409 if finished)."""
        run = training_run_cancel(run=get_run_or_404(run_id))
        return Response(TrainingRunOutput(get_run_or_404(run.pk)).data)
