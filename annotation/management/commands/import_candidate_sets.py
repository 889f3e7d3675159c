from annotation.management.cli import ImportCommand
from annotation.services.imports import candidate_sets_import


class Command(ImportCommand):
    help = (
        "Import externally generated candidate sets into a project from a JSON list or JSON "
        'Lines file of {"prompt"|"messages", "candidates": [{"text", "model"?}] x K} rows.'
    )
    noun = "candidate set"
    unit = "set"
    import_rows = staticmethod(candidate_sets_import)
