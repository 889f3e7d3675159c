from django.db import models


class Role(models.TextChoices):
    """A user's role; stored as membership of the Django group of the same name."""

    ADMIN = "admin", "Admin"
    REVIEWER = "reviewer", "Reviewer"
    ANNOTATOR = "annotator", "Annotator"


class ProjectRole(models.TextChoices):
    """A member's role in one project (admins need no membership: they see every project)."""

    REVIEWER = "reviewer", "Reviewer"
    ANNOTATOR = "annotator", "Annotator"


class MessageRole(models.TextChoices):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class CandidateSetState(models.TextChoices):
    OPEN = "open", "Open"  # still needs annotations
    COMPLETE = "complete", "Complete"  # has `annotations_per_set` submitted rankings
    RETIRED = "retired", "Retired"  # withdrawn by an admin; never handed out


class SetPurpose(models.TextChoices):
    """What a candidate set's rankings are for. Preference sets are training data (exports,
    snapshots, the loop's triggers); evaluation sets are blind side-by-side comparisons of two
    policies on held-out prompts (issue 17): they feed the human leaderboard and a round's
    human win-rate, and are never trained on."""

    PREFERENCE = "preference", "Preference data"
    EVALUATION = "evaluation", "Evaluation (A/B of two policies)"


class AssignmentState(models.TextChoices):
    LEASED = "leased", "Leased"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"  # set by the sweeper; a leased row past expiry counts the same
    # A reviewer sent its ranking back (issue 18): the set is offered to this annotator again,
    # first, and the slot stays theirs meanwhile.
    RETURNED = "returned", "Sent back"
    # A reviewer rejected its ranking: the slot is free for another annotator (the set reopens),
    # and the set is never offered to this annotator again.
    REJECTED = "rejected", "Rejected"


class GoldSource(models.TextChoices):
    EXPERT = "expert", "Expert ranking"
    HONEYPOT = "honeypot", "Synthetic honeypot"
    ADJUDICATED = "adjudicated", "A reviewer's adjudicated order"


class ReviewState(models.TextChoices):
    """Where a submitted ranking stands with reviewers (issue 18). Rejected and sent-back
    rankings are not counted: not exported, not frozen into snapshots, not in agreement or
    consensus. A sent-back ranking is kept as history; the annotator's re-submission is a new
    ranking."""

    PENDING = "pending", "Not reviewed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    SENT_BACK = "sent_back", "Sent back"


class ReviewAction(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject (with a reason)"
    SEND_BACK = "send_back", "Send back to the annotator (with a comment)"


NOT_COUNTED_REVIEW_STATES = (ReviewState.REJECTED, ReviewState.SENT_BACK)


class SnapshotSplit(models.TextChoices):
    TRAIN = "train", "Train"
    TEST = "test", "Test"
