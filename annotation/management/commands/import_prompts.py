from annotation.management.cli import ImportCommand
from annotation.services.imports import prompts_import


class Command(ImportCommand):
    help = (
        "Import prompts into a project from a JSON list or JSON Lines file of "
        '{"prompt": str} or {"messages": [...]} rows (same rules as the REST import).'
    )
    noun = "prompt"
    unit = "prompt"
    import_rows = staticmethod(prompts_import)
