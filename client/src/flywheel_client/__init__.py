"""A Python client for Flywheel's REST API: sign in, list projects, import prompts and
candidate sets, snapshot rankings into a ``datasets.Dataset``, start and follow training runs,
fetch model versions. Needs httpx only; ``datasets`` and ``tqdm`` are extras."""

from .client import OPERATIONS, Client
from .errors import ApiError, DownloadUnavailable, FlywheelError, RunFailed

__all__ = ["OPERATIONS", "ApiError", "Client", "DownloadUnavailable", "FlywheelError", "RunFailed"]
__version__ = "0.1.0"
