"""Executors: where a job's process runs. One small interface (Airflow's executors are the
model), one module per place, each registering itself:

- ``inline``: in the Celery worker's own process (light jobs: generation on small models);
- ``local``: a child process of the worker that dies with it (training); started from a warm,
  pre-imported process, so a job does not pay the import of torch / transformers / TRL.

A job's ``executor`` field picks one (empty: ``settings.FLYWHEEL_DEFAULT_EXECUTORS`` by job
type). Modules listed in ``settings.FLYWHEEL_EXECUTORS`` are imported on first use, so a new
place is one module that subclasses ``Executor`` and decorates it with ``register_executor``.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings

BUILT_IN = ("training.engine.executors.inline", "training.engine.executors.local")


@dataclass(frozen=True)
class Launch:
    """The job a process is started for."""

    job_type: str
    job_id: int


class Executor(abc.ABC):
    name: ClassVar[str]

    @abc.abstractmethod
    def run(self, launch: Launch, on_output: Callable[[str], None]) -> int:
        """Run the job's process at this place until it ends; pass each line it prints to
        ``on_output``; return its exit code (0: it finished and recorded its outcome itself).
        If this raises (``on_output`` included), the job's process is stopped first: an
        attempt that is over must not leave a process working beside the next one."""


_EXECUTORS: dict[str, type[Executor]] = {}


def register_executor(cls: type[Executor]) -> type[Executor]:
    _EXECUTORS[cls.name] = cls
    return cls


def _load() -> None:
    for module in (*BUILT_IN, *settings.FLYWHEEL_EXECUTORS):
        importlib.import_module(module)


def executor_names() -> list[str]:
    _load()
    return sorted(_EXECUTORS)


def executor(name: str) -> Executor:
    """A new instance of the executor called ``name``; KeyError if none."""
    _load()
    return _EXECUTORS[name]()
