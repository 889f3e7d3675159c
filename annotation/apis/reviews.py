"""The review queue (issue 18): a project's submitted rankings for its reviewers, each
accepted, rejected or sent back; a disputed set's adjudicated order; an annotator's own review
counts and the comments on their work."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flywheel.ids import IdField, query_id
from flywheel.serializers import ModelOutput

from ..enums import ReviewAction, ReviewState
from ..models import CandidateSet, Ranking
from ..permissions import HasAnyRole, IsReviewerOrAdmin
from ..review_queue import QueueFilters, annotator_reviews, queue_context, review_queue
from ..services.reviews import MAX_REVIEW_COMMENT_CHARS, candidate_set_adjudicate, ranking_review
from .datasets import _parse_query
from .projects import get_project_or_404


class ReviewQueueQuery(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=ReviewState.choices,
        required=False,
        help_text="Only rankings in this review state; every state when absent.",
    )
    disputed = serializers.BooleanField(
        default=False, help_text="Only rankings of disputed sets (low pair agreement)."
    )
    gold_failed = serializers.BooleanField(
        default=False, help_text="Only rankings by annotators who fail the project's gold sets."
    )
    flagged = serializers.BooleanField(default=False, help_text="Only rankings with QC flags.")
    annotator = IdField(required=False, help_text="Only this annotator's rankings (user id).")
    since = serializers.DateField(required=False, help_text="Submitted on or after this day.")
    until = serializers.DateField(required=False, help_text="Submitted on or before this day.")

    def filters(self) -> QueueFilters:
        v = self.validated_data
        return QueueFilters(
            state=v.get("state"),
            disputed=v["disputed"],
            gold_failed=v["gold_failed"],
            flagged=v["flagged"],
            annotator_id=v.get("annotator"),
            since=v.get("since"),
            until=v.get("until"),
        )


class ReviewCandidateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class ReviewItemOutput(ModelOutput):
    annotator = serializers.CharField(source="annotator.username")
    annotator_id = serializers.IntegerField()
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True)
    prompt = serializers.JSONField(source="candidate_set.prompt.messages")
    candidates = serializers.SerializerMethodField(help_text="The set's, in canonical order.")
    is_gold = serializers.BooleanField(source="candidate_set.is_gold")
    set_agreement = serializers.SerializerMethodField(
        help_text="Pair agreement of the set's rankings that count; null below two."
    )
    disputed = serializers.SerializerMethodField()
    gold_failed = serializers.SerializerMethodField(
        help_text="The annotator fails the project's gold sets."
    )

    class Meta:
        model = Ranking
        fields = (
            "id candidate_set annotator annotator_id tiers not_rankable flags ratings rationale "
            "time_spent_seconds qc_flags review_state review_comment reviewed_by reviewed_at "
            "created_at"
        ).split()

    @extend_schema_field(ReviewCandidateOutput(many=True))
    def get_candidates(self, ranking: Ranking) -> list[dict]:
        return [
            {"id": m.candidate_id, "text": m.candidate.text}
            for m in ranking.candidate_set.members.all()
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_set_agreement(self, ranking: Ranking) -> float | None:
        return self.context["queue"].agreements.get(ranking.candidate_set_id)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_disputed(self, ranking: Ranking) -> bool:
        return self.context["queue"].disputed(ranking.candidate_set_id)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_gold_failed(self, ranking: Ranking) -> bool:
        return ranking.annotator_id in self.context["queue"].failing_gold


class ReviewQueueApi(generics.ListAPIView):
    """The project's submitted rankings for review, oldest first, filtered (reviewers of the
    project and admins)."""

    serializer_class = ReviewItemOutput
    permission_classes = [IsReviewerOrAdmin]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Ranking.objects.none()
        project = get_project_or_404(self.kwargs["project_id"])
        filters = _parse_query(ReviewQueueQuery, self.request, paged=True).filters()
        self.queue = queue_context(project=project)
        return review_queue(project=project, filters=filters, context=self.queue)

    def get_serializer_context(self):
        return super().get_serializer_context() | {"queue": getattr(self, "queue", None)}

    @extend_schema(parameters=[ReviewQueueQuery])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ReviewInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=ReviewAction.choices)
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject (the reason) and to send back (shown to the annotator in "
        f"the workspace); at most {MAX_REVIEW_COMMENT_CHARS} characters.",
    )


class ReviewOutput(ModelOutput):
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True)

    class Meta:
        model = Ranking
        fields = "id candidate_set review_state review_comment reviewed_by reviewed_at".split()


class RankingReviewApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(request=ReviewInput, responses={200: ReviewOutput})
    def post(self, request: Request, project_id: int, ranking_id: int) -> Response:
        """Accept, reject (with a reason) or send back (with a comment) one of the project's
        rankings. Rejected and sent-back rankings leave exports and new snapshots; a sent-back
        set returns to its annotator first. 409 on a ranking already sent back."""
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        ranking = ranking_review(
            project_id=project_id,
            ranking_id=ranking_id,
            reviewer=request.user,
            action=data.validated_data["action"],
            comment=data.validated_data["comment"],
        )
        return Response(ReviewOutput(ranking).data)


class AdjudicationInput(serializers.Serializer):
    tiers = serializers.JSONField(
        help_text="The final order: every candidate id of the set once, in tiers best first "
        "([[id], [id, id], …]; ties only where the project allows them)."
    )
    promote_to_gold = serializers.BooleanField(
        default=False,
        help_text="Also make this order the set's gold ranking: the set becomes a gold set.",
    )


class AdjudicationOutput(ModelOutput):
    adjudicated_by = serializers.CharField(source="adjudicated_by.username", allow_null=True)

    class Meta:
        model = CandidateSet
        fields = "id adjudicated_tiers adjudicated_by adjudicated_at gold_tiers gold_source".split()


class AdjudicationApi(APIView):
    permission_classes = [IsReviewerOrAdmin]

    @extend_schema(request=AdjudicationInput, responses={200: AdjudicationOutput})
    def post(self, request: Request, project_id: int, set_id: int) -> Response:
        """Set a disputed set's final order: it becomes the set's consensus (marked adjudicated
        in exports), and with ``promote_to_gold`` its gold ranking. Again to change it."""
        data = AdjudicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        candidate_set = candidate_set_adjudicate(
            project_id=project_id,
            set_id=set_id,
            reviewer=request.user,
            tiers=data.validated_data["tiers"],
            promote_to_gold=data.validated_data["promote_to_gold"],
        )
        return Response(AdjudicationOutput(candidate_set).data)


class ReviewCountsOutput(serializers.Serializer):
    pending = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    sent_back = serializers.IntegerField()


class ReviewCommentOutput(serializers.Serializer):
    ranking = serializers.IntegerField()
    project = serializers.IntegerField()
    candidate_set = serializers.IntegerField()
    review_state = serializers.ChoiceField(choices=ReviewState.choices)
    comment = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


class MyReviewsOutput(serializers.Serializer):
    counts = ReviewCountsOutput(help_text="The caller's rankings by review state.")
    comments = ReviewCommentOutput(
        many=True, help_text="The latest reviewer comments, newest first."
    )


class MyReviewsApi(APIView):
    permission_classes = [HasAnyRole]

    @extend_schema(
        parameters=[OpenApiParameter("project", int, description="Only this project's rankings.")],
        responses={200: MyReviewsOutput},
    )
    def get(self, request: Request) -> Response:
        """How reviewers judged the caller's rankings: counts by review state, and the latest
        comments (reasons for rejections, what to change in sets sent back)."""
        project_id = query_id(request.query_params, "project")
        reviews = annotator_reviews(annotator=request.user, project_id=project_id)
        return Response(MyReviewsOutput(reviews).data)
