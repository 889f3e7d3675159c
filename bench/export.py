"""Export throughput: the `preference` JSONL export streamed over HTTP vs PostgreSQL's own
`COPY (…) TO STDOUT` of the same rows, in the same run, on the same database.

    python bench/export.py [--pairs 1000000] [--keep]

Builds a project whose rankings yield at least ``--pairs`` preference pairs (K=4, strict
rankings, 6 pairs each) in a scratch database ``flywheel_bench``, serves it with gunicorn
(1 sync worker), downloads the export with a streaming client, and prints rows/s and MB/s of
both, their ratio, and the peak RSS of the web worker. Needs DATABASE_URL's server (defaults to
the local PostgreSQL) and creates/drops only ``flywheel_bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg2
from common import ROOT, SETS_SQL, admin_sql, manage

K = 4
PAIRS_PER_RANKING = K * (K - 1) // 2
OVERLAP = 3
ANNOTATORS = 30
PORT = 8765

SEED_SQL = (
    SETS_SQL
    + """
INSERT INTO annotation_assignment (candidate_set_id, annotator_id, display_order, state,
                                   leased_at, lease_expires_at, finished_at)
SELECT s.id, u.id,
       (SELECT jsonb_agg(m.candidate_id ORDER BY m.position)
          FROM annotation_candidatesetmember m WHERE m.candidate_set_id = s.id),
       'submitted', now(), now(), now()
FROM annotation_candidateset s
JOIN LATERAL (
    SELECT id FROM auth_user WHERE username LIKE 'bench-annotator-%%'
    ORDER BY (id * 7919 + s.id) %% %(annotators)s, id LIMIT %(overlap)s
) u ON true
WHERE s.project_id = %(project)s;

INSERT INTO annotation_ranking (assignment_id, candidate_set_id, annotator_id, tiers,
                                not_rankable, flags, ratings, rationale, interaction,
                                qc_flags, request_fingerprint, created_at)
SELECT a.id, a.candidate_set_id, a.annotator_id,
       (SELECT jsonb_agg(jsonb_build_array(x) ORDER BY (x::bigint * 31 + a.id) %% 97)
          FROM jsonb_array_elements(a.display_order) x),
       false, '{}', '{}', '', '{}', '[]', '', now()
FROM annotation_assignment a JOIN annotation_candidateset s ON s.id = a.candidate_set_id
WHERE s.project_id = %(project)s;
"""
)

# The `preference` view's rows (pairs=all), built by PostgreSQL itself.
COPY_SQL = """
COPY (
  WITH tiered AS (
    SELECT r.id AS rid, r.candidate_set_id AS sid, r.annotator_id AS uid,
           tier.ord AS ti, jsonb_array_length(r.tiers) AS nt, cid::bigint AS cid
    FROM annotation_ranking r
    JOIN annotation_candidateset s ON s.id = r.candidate_set_id
    CROSS JOIN LATERAL jsonb_array_elements(r.tiers) WITH ORDINALITY AS tier(val, ord)
    CROSS JOIN LATERAL jsonb_array_elements_text(tier.val) AS cid
    WHERE s.project_id = {project} AND NOT r.not_rankable
  )
  SELECT json_build_object(
    'prompt', p.messages,
    'chosen', json_build_array(json_build_object('role', 'assistant', 'content', cw.text)),
    'rejected', json_build_array(json_build_object('role', 'assistant', 'content', cl.text)),
    'margin', (l.ti - w.ti)::float8 / (w.nt - 1),
    'prompt_id', p.id, 'set_id', w.sid, 'annotator', md5(w.uid::text))
  FROM tiered w
  JOIN tiered l ON l.rid = w.rid AND l.ti > w.ti
  JOIN annotation_candidate cw ON cw.id = w.cid
  JOIN annotation_candidate cl ON cl.id = l.cid
  JOIN annotation_candidateset s ON s.id = w.sid
  JOIN annotation_prompt p ON p.id = s.prompt_id
  ORDER BY w.sid, w.rid
) TO STDOUT
"""


class ByteCounter:
    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, data: bytes | str) -> int:
        data = data.encode() if isinstance(data, str) else data
        self.bytes += len(data)
        self.lines += data.count(b"\n")
        return len(data)


def bench_env(database_url: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "FLYWHEEL_ALLOW_INSECURE_KEY": "1",
        "FLYWHEEL_VAR_DIR": str(ROOT / "var" / "bench"),
        "FLYWHEEL_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "flywheel.settings",
    }


def prepare(database_url: str, admin_url: str, pairs: int) -> tuple[int, str]:
    admin_sql(admin_url, "DROP DATABASE IF EXISTS flywheel_bench WITH (FORCE)")
    admin_sql(admin_url, "CREATE DATABASE flywheel_bench")
    env = bench_env(database_url)
    manage(env, "migrate", "-v0")
    script = (
        "from annotation.services.users import user_create, token_for\n"
        "from annotation.services.projects import project_create\n"
        f"[user_create(username=f'bench-annotator-{{i}}', password='bench-pass-123', "
        f"role='annotator') for i in range({ANNOTATORS})]\n"
        "admin = user_create(username='bench-admin', password='bench-pass-123', role='admin')\n"
        f"p = project_create(name='Bench', k={K}, annotations_per_set={OVERLAP})\n"
        "print(p.pk, token_for(user=admin))\n"
    )
    out = manage(env, "shell", "-c", script).split()
    project, token = int(out[-2]), out[-1]
    sets = -(-pairs // (PAIRS_PER_RANKING * OVERLAP))
    started = time.perf_counter()
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(
            SEED_SQL,
            {
                "project": project,
                "state": "complete",
                "sets": sets,
                "k": K,
                "annotators": ANNOTATORS,
                "overlap": OVERLAP,
            },
        )
        cur.execute("ANALYZE")
    print(f"seeded {sets} sets × {OVERLAP} rankings in {time.perf_counter() - started:.1f} s")
    return project, token


def copy_baseline(database_url: str, project: int) -> tuple[float, ByteCounter]:
    sink = ByteCounter()
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.copy_expert(COPY_SQL.format(project=project), sink, size=1 << 20)
        return time.perf_counter() - started, sink


def http_export(project: int, token: str) -> tuple[float, ByteCounter]:
    sink = ByteCounter()
    url = f"http://127.0.0.1:{PORT}/api/v1/projects/{project}/export/?view=preference"
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        with client.stream("GET", url, headers=headers) as response:
            response.raise_for_status()
            for chunk in response.iter_raw(1 << 20):
                sink.write(chunk)
        return time.perf_counter() - started, sink


def start_server(database_url: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "flywheel.wsgi",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "1",
            "--timeout",
            "600",
            "--control-socket",
            str(ROOT / "var" / "bench.ctl"),
        ],
        cwd=ROOT,
        env=bench_env(database_url),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{PORT}/api/v1/schema/", timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def watch_rss(server: subprocess.Popen, stop: threading.Event, peak: list[int]) -> None:
    parent = psutil.Process(server.pid)
    while not stop.is_set():
        for proc in parent.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the flywheel_bench database")
    args = parser.parse_args()
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flywheel"))
    database_url = urlunsplit(base._replace(path="/flywheel_bench"))
    admin_url = urlunsplit(base._replace(path="/postgres"))
    (ROOT / "var").mkdir(exist_ok=True)

    project, token = prepare(database_url, admin_url, args.pairs)
    copy_seconds, copied = copy_baseline(database_url, project)
    server = start_server(database_url)
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=watch_rss, args=(server, stop, peak), daemon=True)
    watcher.start()
    try:
        http_export(project, token)  # warm-up: connection, imports, query plans
        peak[0] = 0
        http_seconds, streamed = http_export(project, token)
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    if not args.keep:
        admin_sql(admin_url, "DROP DATABASE IF EXISTS flywheel_bench WITH (FORCE)")

    print(f"pairs: COPY {copied.lines:,}, HTTP export {streamed.lines:,}")
    for name, seconds, sink in (
        ("COPY TO STDOUT", copy_seconds, copied),
        ("HTTP JSONL export", http_seconds, streamed),
    ):
        print(
            f"{name:>18}: {seconds:6.2f} s  {sink.lines / seconds:>10,.0f} rows/s  "
            f"{sink.bytes / seconds / 1e6:7.1f} MB/s  ({sink.bytes / 1e6:,.0f} MB)"
        )
    ratio = (streamed.lines / http_seconds) / (copied.lines / copy_seconds)
    print(f"throughput ratio (export / COPY, rows/s): {ratio:.2f}  (goal ≥ 0.5)")
    print(f"peak RSS of the web worker: {peak[0] / 2**20:.0f} MiB  (goal < 300 MiB)")


if __name__ == "__main__":
    main()
