"""A warm process per worker: it imports Django, torch, transformers and TRL once, then forks a
child for each job, so a job's process starts in milliseconds instead of paying 8–10 s of
imports (issue 15: a loop round paid it for each of its runs).

The worker talks to it over a socket pair: it sends ``{"job_type", "job_id"}`` with the write
end of a pipe (SCM_RIGHTS) that becomes the child's stdout and stderr; the warm process answers
``{"pid"}`` once forked and ``{"exit"}`` once the child is reaped. Death follows the chain
worker → warm process → job: each has ``PR_SET_PDEATHSIG`` = SIGKILL on its parent, so a killed
worker never leaves a job working beside the attempt that resumes it.

Fork safety: the warm process runs no torch op and opens no database connection before it
forks (an OpenMP pool or a socket shared with the parent would break the child).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
MESSAGE_BYTES = 4096


# Loaded here, not in the child: between fork and exec a child of a threaded process must not
# take the dynamic loader's lock, which another thread (an import, say) may have held.
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)


def die_with_parent() -> None:  # pragma: no cover — runs in a child before exec or fork
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _send(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode() + b"\n"
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


class _Lines:
    """Newline-framed JSON messages from a socket (with the fds that came with them)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read(self) -> tuple[dict | None, list[int]]:
        fds: list[int] = []
        while b"\n" not in self.buffer:
            data, received, _, _ = socket.recv_fds(self.sock, MESSAGE_BYTES, 4)
            fds += received
            if not data:
                return None, fds
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line), fds


class WarmProcess:
    """The worker's handle on its warm process, started on first use and again if it died."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.lines: _Lines | None = None
        self.ready = False

    def start(self) -> None:
        """Start it now without waiting for its imports (a worker booting), so the first job
        finds it ready; that job waits for what is left. Call it from a thread that lives as
        long as the worker process: PR_SET_PDEATHSIG fires when the *thread* that started the
        child ends, not the process."""
        if self.process is None or self.process.poll() is not None:
            self.close()
            ours, theirs = socket.socketpair()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "training.engine.warm", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                preexec_fn=die_with_parent,
            )
            theirs.close()
            self.sock, self.lines, self.ready = ours, _Lines(ours), False

    def _await_ready(self) -> None:
        self.start()
        if not self.ready:
            ready, _ = self.lines.read()
            if ready is None or not ready.get("ready"):
                self.close()
                raise RuntimeError("The warm process exited while starting; see the worker's log.")
            self.ready = True

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = self.sock = self.lines = None

    def run(self, job_type: str, job_id: int, on_output: Callable[[str], None]) -> int:
        self._await_ready()
        return self._exchange(job_type, job_id, on_output)

    def _exchange(self, job_type: str, job_id: int, on_output: Callable[[str], None]) -> int:
        read_end, write_end = os.pipe()
        try:
            _send(self.sock, {"job_type": job_type, "job_id": job_id}, (write_end,))
        finally:
            os.close(write_end)
        started, _ = self.lines.read()
        if started is None:
            os.close(read_end)
            self.close()
            raise RuntimeError("The warm process died before starting the job.")
        pid = started["pid"]
        try:
            with os.fdopen(read_end, encoding="utf-8", errors="replace") as output:
                for line in output:
                    on_output(line)
        except BaseException:
            _kill(pid)
            self.lines.read()  # its exit, so the next job starts from a clean exchange
            raise
        ended, _ = self.lines.read()
        if ended is None:  # the warm process died with the job (killed, out of memory)
            self.close()
            return -signal.SIGKILL
        return ended["exit"]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def warm_imports(entries: list[str]) -> None:
    """Import each ``module`` (and read ``module:name``, which loads a lazy package's part)."""
    for entry in entries:
        module, _, name = entry.partition(":")
        loaded = importlib.import_module(module)
        if name:
            getattr(loaded, name)


def _fork_job(message: dict, output_fd: int, sock: socket.socket) -> int:
    from django.db import connections

    connections.close_all()
    pid = os.fork()
    if pid:
        os.close(output_fd)
        return pid
    try:  # the job's process
        die_with_parent()
        sock.close()
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from training.engine.process import run_job, set_torch_threads
        from training.engine.reporting import output_goes_to_worker

        output_goes_to_worker()
        set_torch_threads()
        code = run_job(message["job_type"], int(message["job_id"]))
    except BaseException:  # noqa: BLE001 — the exit code and the traceback tell the worker
        logging.getLogger("training.engine").exception("job process failed")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(fd: int) -> None:
    """The warm process: import once, then one forked child per job, one job at a time."""
    from django.conf import settings

    from training.engine.process import prepare_process

    prepare_process()
    warm_imports(settings.FLYWHEEL_WARM_IMPORTS)
    # What the imports built lives as long as the process: out of the collector's reach, a
    # job's full collections (accelerate runs one as each training starts) skip it (0.3 s each).
    gc.freeze()
    sock = socket.socket(fileno=fd)
    lines = _Lines(sock)
    _send(sock, {"ready": True})
    while True:
        message, fds = lines.read()
        if message is None:  # the worker is gone
            return
        pid = _fork_job(message, fds[0], sock)
        _send(sock, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _send(sock, {"exit": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve(int(sys.argv[1]))
