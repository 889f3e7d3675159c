"""REST for the feedback loop: settings, rounds (start, watch, retry, decide) and the
leaderboard."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access import reviewable
from annotation.apis.projects import get_project_or_404
from annotation.permissions import IsAdmin, IsReviewerOrAdmin
from flywheel.errors import ApplicationError, found_or_404
from flywheel.serializers import ModelOutput
from training.apis.diagnostics import RunDiagnosticsOutput
from training.models import MAX_SETS_PER_PROMPT

from .models import Loop, LoopRound, Oracle, PromptSelection, SnapshotScope, Trigger
from .selectors import ai_agreement, leaderboard, lineage, loop_rounds, loop_waiting_for
from .services.decisions import round_decide
from .services.human_eval import human_eval_progress
from .services.rounds import round_retry, round_start
from .services.settings import MAX_HUMAN_EVAL_PROMPTS, loop_for, loop_update


class LoopOutput(ModelOutput):
    current_policy = serializers.IntegerField(source="project.current_policy_id", allow_null=True)

    class Meta:
        model = Loop
        fields = (
            "project auto trigger min_new_rankings policy_kind reward_config policy_config adapter "
            "sampling prompt_selection prompts_per_round sets_per_prompt snapshot_scope "
            "compare_with_previous human_eval_prompts "
            "test_fraction eval_prompts eval_samples_per_prompt eval_max_new_tokens oracle "
            "ai_feedback require_confirmation seed current_policy"
        ).split()


class LoopInput(serializers.Serializer):
    auto = serializers.BooleanField(required=False)
    trigger = serializers.ChoiceField(choices=Trigger.choices, required=False)
    min_new_rankings = serializers.IntegerField(min_value=1, max_value=10**7, required=False)
    policy_kind = serializers.CharField(
        required=False, help_text="A run kind whose loop_role is policy (GET /run-kinds/)."
    )
    reward_config = serializers.JSONField(required=False)
    policy_config = serializers.JSONField(required=False)
    adapter = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A LoRA adapter block for the rounds' runs (r, alpha, dropout, "
        "target_modules, quantization); null: full fine-tuning.",
    )
    sampling = serializers.JSONField(required=False)
    prompt_selection = serializers.ChoiceField(choices=PromptSelection.choices, required=False)
    prompts_per_round = serializers.IntegerField(
        min_value=1, max_value=10**6, allow_null=True, required=False
    )
    sets_per_prompt = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SETS_PER_PROMPT,
        required=False,
        help_text="Independent sets of K per prompt in each round's generation.",
    )
    snapshot_scope = serializers.ChoiceField(choices=SnapshotScope.choices, required=False)
    compare_with_previous = serializers.IntegerField(min_value=0, max_value=8, required=False)
    human_eval_prompts = serializers.IntegerField(
        min_value=0,
        max_value=MAX_HUMAN_EVAL_PROMPTS,
        required=False,
        help_text="Blind human A/B of each round's new policy against the previous one on this "
        "many held-out prompts, before its verdict; 0: off.",
    )
    test_fraction = serializers.FloatField(required=False)
    eval_prompts = serializers.JSONField(required=False)
    eval_samples_per_prompt = serializers.IntegerField(min_value=1, max_value=64, required=False)
    eval_max_new_tokens = serializers.IntegerField(min_value=1, max_value=8192, required=False)
    oracle = serializers.ChoiceField(choices=Oracle.choices, required=False)
    ai_feedback = serializers.BooleanField(required=False)
    require_confirmation = serializers.BooleanField(
        required=False,
        help_text="Promote a round's policy only when its verdict is confirmed; off: always.",
    )
    seed = serializers.IntegerField(min_value=0, max_value=2**62, required=False)


class LoopApi(APIView):
    """GET: a project's loop settings (reviewer, admin). PATCH: change them (admin)."""

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "PATCH" else [IsReviewerOrAdmin()]

    @extend_schema(responses={200: LoopOutput})
    def get(self, request: Request, project_id: int) -> Response:
        return Response(LoopOutput(loop_for(get_project_or_404(project_id))).data)

    @extend_schema(request=LoopInput, responses={200: LoopOutput})
    def patch(self, request: Request, project_id: int) -> Response:
        loop = loop_for(get_project_or_404(project_id))
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - set(LoopInput().fields))
            if unknown:
                raise ApplicationError(
                    "Invalid input.", errors={name: ["Unknown field."] for name in unknown}
                )
        data = LoopInput(data=request.data)
        data.is_valid(raise_exception=True)
        loop = loop_update(loop=loop, changes=dict(data.validated_data))
        return Response(LoopOutput(loop).data)


class HumanEvalProgressOutput(serializers.Serializer):
    sets = serializers.IntegerField()
    complete = serializers.IntegerField()
    rankings = serializers.IntegerField()


class RoundOutput(ModelOutput):
    project = serializers.IntegerField(source="loop.project_id")
    reward_run_status = serializers.CharField(source="reward_run.status", allow_null=True)
    policy_run_status = serializers.CharField(source="policy_run.status", allow_null=True)
    generation_job_status = serializers.CharField(source="generation_job.status", allow_null=True)
    evaluation = serializers.SerializerMethodField(
        help_text="Reward-model accuracy vs the length baseline, the policies' scores, the "
        "self-judged win-rate, the judge and its independent and length-controlled win-rates; "
        "without the stored samples and comparisons."
    )
    verdict_reasons = serializers.ListField(child=serializers.CharField())
    human_eval = serializers.SerializerMethodField(
        help_text="The blind A/B's progress: sets written, sets complete, rankings; null "
        "without one. Its win-rate is the evaluation's human_win_rate."
    )

    class Meta:
        model = LoopRound
        fields = (
            "id project number status step error policy_kind base_policy snapshot reward_run "
            "reward_run_status judge_run judge_model policy_run policy_run_status reward_model "
            "policy_model generation_job generation_job_status human_eval_job human_eval "
            "selection evaluation verdict "
            "verdict_reasons decision decided_by decided_at step_seconds created_at finished_at"
        ).split()

    @extend_schema_field(HumanEvalProgressOutput(allow_null=True))
    def get_human_eval(self, loop_round) -> dict | None:
        return human_eval_progress(loop_round)

    def get_evaluation(self, loop_round) -> dict:
        hidden = {"samples", "comparisons", "prompts"}
        evaluation = loop_round.evaluation or {}
        return {k: v for k, v in evaluation.items() if k not in hidden} | (
            {"prompts": len(evaluation["prompts"])} if "prompts" in evaluation else {}
        )


class RoundDetailOutput(RoundOutput):
    ai_agreement = serializers.SerializerMethodField()
    lineage = serializers.SerializerMethodField()
    reward_diagnostics = RunDiagnosticsOutput(
        source="reward_run.diagnostics",
        allow_null=True,
        help_text="The round's reward run's diagnostics (held-out accuracy beside the length "
        "baseline and the annotators' ceiling, train vs held-out, calibration, accuracy per "
        "prompt group); null until it succeeds.",
    )

    def get_ai_agreement(self, loop_round) -> dict | None:
        return ai_agreement(loop_round)

    def get_lineage(self, loop_round) -> dict:
        return lineage(loop_round)


class RoundListStartApi(APIView):
    """GET: the project's rounds (reviewer, admin). POST: start a round now (admin)."""

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsReviewerOrAdmin()]

    @extend_schema(responses={200: RoundOutput(many=True)})
    def get(self, request: Request, project_id: int) -> Response:
        loop = loop_for(get_project_or_404(project_id))
        return Response(RoundOutput(loop_rounds(loop), many=True).data)

    @extend_schema(request=None, responses={201: RoundDetailOutput})
    def post(self, request: Request, project_id: int) -> Response:
        loop_round = round_start(project=get_project_or_404(project_id), started_by=request.user)
        return Response(
            RoundDetailOutput(_get_round(loop_round.pk)).data, status=status.HTTP_201_CREATED
        )


def _get_round(round_id: int, user=None) -> LoopRound:
    """The round; with ``user``, only if it is of a project they review (any, for admins)."""
    loop_round = (
        LoopRound.objects.select_related(
            "loop", "snapshot", "reward_run", "policy_run", "generation_job", "human_eval_job"
        )
        .filter(reviewable(user, "loop__project") if user is not None else Q(), pk=round_id)
        .first()
    )
    return found_or_404(loop_round, "round")


class RoundDetailApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: RoundDetailOutput})
    def get(self, request: Request, round_id: int) -> Response:
        return Response(RoundDetailOutput(_get_round(round_id, request.user)).data)


class RoundRetryApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: RoundDetailOutput})
    def post(self, request: Request, round_id: int) -> Response:
        loop_round = round_retry(loop_round=_get_round(round_id))
        return Response(RoundDetailOutput(_get_round(loop_round.pk)).data)


class DecisionInput(serializers.Serializer):
    promote = serializers.BooleanField(
        help_text="true: make the round's policy the current policy and generate from it; "
        "false: reject it (nothing is promoted)."
    )


class RoundDecisionApi(APIView):
    """POST: decide an unconfirmed round waiting for a decision, or one waiting on its blind
    human evaluation (admin); 409 when it waits for neither."""

    permission_classes = [IsAdmin]

    @extend_schema(request=DecisionInput, responses={200: RoundDetailOutput})
    def post(self, request: Request, round_id: int) -> Response:
        loop_round = _get_round(round_id)
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - {"promote"})
            if unknown:
                raise ApplicationError("Unknown field.", field=unknown[0])
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        round_decide(
            loop_round=loop_round,
            promote=data.validated_data["promote"],
            decided_by=request.user,
        )
        return Response(RoundDetailOutput(_get_round(round_id, request.user)).data)


class LeaderboardEntryOutput(serializers.Serializer):
    model_version = serializers.IntegerField()
    name = serializers.CharField()
    rating = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    ties = serializers.IntegerField()
    comparisons = serializers.IntegerField()


class LeaderboardOutput(serializers.Serializer):
    source = serializers.CharField()
    comparisons = serializers.IntegerField()
    entries = LeaderboardEntryOutput(many=True)


class LeaderboardApi(APIView):
    """A Bradley–Terry leaderboard of the project's model versions with 95 % bootstrap
    intervals: ``source=rm`` from each round's reward-model judgements of its policy against
    the earlier ones, ``source=human`` from human rankings of sets that mix versions."""

    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("source", enum=["rm", "human"], default="rm")],
        responses={200: LeaderboardOutput},
    )
    def get(self, request: Request, project_id: int) -> Response:
        source = request.query_params.get("source", "rm")
        if source not in ("rm", "human"):
            raise ApplicationError('Must be "rm" or "human".', field="source")
        unknown = sorted(set(request.query_params) - {"source"})
        if unknown:
            raise ApplicationError("Unknown query parameter.", field=unknown[0])
        loop = loop_for(get_project_or_404(project_id))
        return Response(leaderboard(loop, source=source))


class LeaseOutput(serializers.Serializer):
    annotator = serializers.CharField()
    expires_at = serializers.DateTimeField()


class OpenSetOutput(serializers.Serializer):
    candidate_set = serializers.IntegerField()
    prompt = serializers.IntegerField()
    rankings = serializers.IntegerField()
    needed = serializers.IntegerField(help_text="The project's annotations per set.")
    leases = LeaseOutput(many=True, help_text="Live leases on the set, soonest to end first.")


class LoopWaitingOutput(serializers.Serializer):
    auto = serializers.BooleanField()
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    blocked_by = serializers.CharField(
        allow_null=True,
        help_text="The status of the newest round when it is not succeeded (running, failed, "
        "awaiting_decision): no round starts beside it. Null otherwise.",
    )
    blocking_round = serializers.IntegerField(allow_null=True)
    ready = serializers.BooleanField(help_text="The trigger has fired: the next tick starts it.")
    round = serializers.IntegerField(
        allow_null=True, help_text="The newest round of candidate sets (0: the first)."
    )
    sets = serializers.IntegerField()
    complete = serializers.IntegerField()
    open_sets = OpenSetOutput(many=True, help_text="The first 50 open sets, oldest first.")
    open_sets_total = serializers.IntegerField()
    rankings_since_last_round = serializers.IntegerField()
    min_new_rankings = serializers.IntegerField(allow_null=True)


class LoopWaitingApi(APIView):
    """What the next round waits for: a round still open, or the newest round's sets that are
    not complete yet, with who holds a lease on each and until when."""

    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(responses={200: LoopWaitingOutput})
    def get(self, request: Request, project_id: int) -> Response:
        loop = loop_for(get_project_or_404(project_id))
        return Response(LoopWaitingOutput(loop_waiting_for(loop)).data)
