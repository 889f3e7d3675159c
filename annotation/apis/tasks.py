"""The annotator's loop: take the next task, submit a ranking, or skip."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.serializers import ModelOutput

from ..models import Assignment, Ranking
from ..permissions import IsAnnotator
from ..services.assignments import NextTask, assignment_release, assignment_skip, task_next
from ..services.rankings import Submission, ranking_submit

_datetime = serializers.DateTimeField().to_representation


class MessageOutput(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField()


class TaskCandidateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class TaskSuggestionOutput(serializers.Serializer):
    ranking = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Candidate ids in tiers, best first.",
    )


class TaskOutput(serializers.Serializer):
    assignment = serializers.IntegerField()
    lease_expires_at = serializers.DateTimeField()
    project = serializers.IntegerField()
    candidate_set = serializers.IntegerField()
    prompt = MessageOutput(many=True)
    candidates = TaskCandidateOutput(many=True, help_text="In this annotator's display order.")
    suggestion = TaskSuggestionOutput(
        allow_null=True,
        help_text="A reward model's ranking, only where the project shows AI suggestions.",
    )
    review_comment = serializers.CharField(
        allow_null=True,
        help_text="When a reviewer sent this set back to the annotator: their comment.",
    )


def _task_output(task: NextTask) -> dict:
    """TaskOutput's shape, built directly: the serializer is the documented contract
    (schemathesis checks every answer against it), not run on this hot path (issue #7)."""
    assignment = task.assignment
    return {
        "assignment": assignment.pk,
        "lease_expires_at": _datetime(assignment.lease_expires_at),
        "project": task.project_id,
        "candidate_set": assignment.candidate_set_id,
        "prompt": task.messages,
        "candidates": [
            {"id": cid, "text": task.texts[str(cid)]} for cid in assignment.display_order
        ],
        "suggestion": task.suggestion,
        "review_comment": task.review_comment,
    }


class NextTaskApi(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(request=None, responses={200: TaskOutput, 204: None})
    def post(self, request: Request, project_id: int) -> Response:
        """Lease a candidate set to rank (or return the caller's current lease). 204 when the
        project has nothing left for the caller."""
        task = task_next(project_id=project_id, annotator=request.user)
        if task is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_task_output(task))


class RankingOutput(ModelOutput):
    ranking = serializers.JSONField(source="tiers")

    class Meta:
        model = Ranking
        fields = (
            "id assignment candidate_set ranking not_rankable flags ratings rationale "
            "time_spent_seconds created_at"
        ).split()


def _ranking_output(ranking) -> dict:
    """RankingOutput's shape, built directly: next-task and submit are the hot path (issue #7),
    and a serializer instance deep-copies its fields on every request."""
    return {
        "id": ranking.pk,
        "assignment": ranking.assignment_id,
        "candidate_set": ranking.candidate_set_id,
        "ranking": ranking.tiers,
        "not_rankable": ranking.not_rankable,
        "flags": ranking.flags,
        "ratings": ranking.ratings,
        "rationale": ranking.rationale,
        "time_spent_seconds": ranking.time_spent_seconds,
        "created_at": _datetime(ranking.created_at),
    }


class SubmissionInput(serializers.Serializer):
    ranking = serializers.JSONField(
        required=False,
        help_text="Tiers best → worst: [[id], [id, id], …]; ids in one tier are tied.",
    )
    not_rankable = serializers.BooleanField(
        default=False, help_text="All responses are bad; give no tiers."
    )
    flags = serializers.JSONField(required=False, help_text='{"<id>": [flag, …]}')
    ratings = serializers.JSONField(required=False, help_text='{"<id>": {"<dim>": int}}')
    rationale = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default=""
    )
    time_spent_seconds = serializers.FloatField(required=False, allow_null=True)
    interaction = serializers.JSONField(
        required=False, help_text="Summary of the annotator's interaction (moves, keys…)."
    )


# Bound once per process: DRF deep-copies a serializer's declared fields for every instance it
# builds, a third of what validating a submission cost (issue #7). Validation only reads them.
_SUBMISSION_FIELDS = SubmissionInput().fields


class _SubmissionValidator(SubmissionInput):
    """SubmissionInput's validation, on the fields bound above."""

    @property
    def fields(self):
        return _SUBMISSION_FIELDS


class SubmitApi(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(
        request=SubmissionInput,
        responses={201: RankingOutput},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="A retried submit with the same key returns the first result.",
            )
        ],
    )
    def post(self, request: Request, assignment_id: int) -> Response:
        data = _SubmissionValidator(data=request.data)
        data.is_valid(raise_exception=True)
        ranking, created = ranking_submit(
            assignment_id=assignment_id,
            annotator=request.user,
            submission=Submission(**data.validated_data),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(_ranking_output(ranking), status=status.HTTP_201_CREATED, headers=headers)


class AssignmentOutput(ModelOutput):
    class Meta:
        model = Assignment
        fields = "id candidate_set state lease_expires_at".split()


class ReleaseApi(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(request=None, responses={200: AssignmentOutput})
    def post(self, request: Request, assignment_id: int) -> Response:
        """Give the lease back without skipping: the workspace calls this when the annotator
        leaves it, so an unattended tab does not hold the set."""
        assignment = assignment_release(assignment_id=assignment_id, annotator=request.user)
        return Response(AssignmentOutput(assignment).data)


class SkipApi(APIView):
    permission_classes = [IsAnnotator]

    @extend_schema(request=None, responses={200: AssignmentOutput})
    def post(self, request: Request, assignment_id: int) -> Response:
        """Give the set back to the queue for other annotators."""
        assignment = assignment_skip(assignment_id=assignment_id, annotator=request.user)
        return Response(AssignmentOutput(assignment).data)
