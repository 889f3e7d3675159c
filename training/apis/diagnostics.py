"""The shape of a run's ``diagnostics`` (``TrainingRun.diagnostics``), as the run detail API
returns it: a reward run's held-out accuracy beside what it should be read against (issue 17).
Written by ``training.algorithms.diagnostics.reward_diagnostics`` in the training process, with
``ceiling`` added by ``training.services.diagnostics.annotator_ceiling``; the formulas are
documented there. Accuracies and rates are in [0, 1]; null where undefined (no pairs)."""

from __future__ import annotations

from rest_framework import serializers


def _rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class SplitAccuracyOutput(serializers.Serializer):
    pairs = serializers.IntegerField(help_text="Pairs scored (after the length filter).")
    accuracy = _rate("Share of pairs with r(chosen) > r(rejected).")
    length_baseline = _rate(
        "Share of pairs whose chosen response is the longer (see length_unit); a tie counts half."
    )


class TrainAccuracyOutput(SplitAccuracyOutput):
    of_pairs = serializers.IntegerField(help_text="Train pairs the sample was drawn from.")


class CalibrationBinOutput(serializers.Serializer):
    lower = serializers.FloatField()
    upper = serializers.FloatField()
    count = serializers.IntegerField()
    confidence = _rate("Mean max(p, 1 − p) of the bin's pairs; null when empty.")
    accuracy = _rate("Share of the bin's pairs with p > 0.5; null when empty.")


class CalibrationOutput(serializers.Serializer):
    pairs = serializers.IntegerField()
    ece = serializers.FloatField(help_text="Expected calibration error over the bins.")
    brier = serializers.FloatField(help_text="Mean (1 − p)², p = σ(r_chosen − r_rejected).")
    log_loss = serializers.FloatField(help_text="Mean −log p.")
    bins = CalibrationBinOutput(many=True, help_text="10 bins of confidence over [0.5, 1].")


class GroupOutput(serializers.Serializer):
    value = serializers.CharField(help_text="The metadata value (untrusted text).")
    pairs = serializers.IntegerField()
    accuracy = _rate("Held-out accuracy on this group's pairs.")
    length_baseline = _rate("The length baseline on this group's pairs.")


class GroupKeyOutput(serializers.Serializer):
    key = serializers.CharField(help_text="A prompt metadata key (untrusted text).")
    values = serializers.IntegerField(help_text="Distinct values among the held-out pairs.")
    groups = GroupOutput(many=True, help_text="One per value, most pairs first.")


class GroupKeySkippedOutput(serializers.Serializer):
    key = serializers.CharField()
    values = serializers.IntegerField()
    reason = serializers.CharField()


class CeilingOutput(serializers.Serializer):
    accuracy = _rate(
        "The best held-out accuracy the labels allow: q with agreement = q² + (1 − q)²; null "
        "(see reason) when no set was ranked twice."
    )
    agreement = _rate(
        "Pooled share of (annotator pair, response pair) cases ordered the same way, over "
        "response pairs both annotators ordered strictly."
    )
    agreement_with_ties = _rate("Mean per-set pairwise agreement, ties counted as a relation.")
    sets = serializers.IntegerField(help_text="Sets of the snapshot ranked by ≥ 2 annotators.")
    comparisons = serializers.IntegerField(help_text="Cases behind `agreement`.")
    reason = serializers.CharField(allow_blank=True, help_text="Why accuracy is null; or empty.")
    gold_accuracy = _rate("The snapshot's annotators' mean accuracy on the project's gold sets.")
    gold_rankings = serializers.IntegerField()


class RunDiagnosticsOutput(serializers.Serializer):
    length_unit = serializers.CharField(help_text="What the length baseline counts.")
    heldout = SplitAccuracyOutput(allow_null=True, help_text="The test split; null without one.")
    train = TrainAccuracyOutput(
        allow_null=True, help_text="A seeded sample of at most 2,000 train pairs."
    )
    gap = _rate("Train accuracy − held-out accuracy: memorising shows as a large gap.")
    calibration = CalibrationOutput(allow_null=True, help_text="On the held-out pairs.")
    groups = GroupKeyOutput(
        many=True, help_text="Held-out accuracy per value of each prompt metadata key."
    )
    groups_skipped = GroupKeySkippedOutput(many=True, help_text="Keys not shown, and why.")
    ceiling = CeilingOutput(help_text="The annotators' own agreement.")
