"""REST for the training side: the model registry with lineage (``models``), training runs and
the algorithms they can run (``runs``), generation jobs (``generation``)."""

from __future__ import annotations

from flywheel.errors import ApplicationError
from flywheel.ids import MAX_ID


def related_or_400(model, pk, field):
    """The row a request names by id, or a 400 on that field; None when no id was given."""
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first() if 1 <= pk <= MAX_ID else None
    if found is None:
        raise ApplicationError(f"No such {field.replace('_', ' ')}.", field=field)
    return found
