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


class GoldSource(models.TextChoices):
    EXPERT = "expert", "Expert ranking"
    HONEYPOT = "honeypot", "Synthetic honeypot"


class SnapshotSplit(models.TextChoices):
    TRAIN = "train", "Train"
    TEST = "test", "Test"
