"""Wall time of one full feedback-loop round on this machine, broken down by step.

    python bench/loop.py [--policy dpo|ppo|grpo] [--annotators 4] [--rule polite|topic|template]
                         [--seed 0] [--sets-per-prompt N] [--human-eval N] [--slot N] [--keep]

What a `make demo` user gets, end to end, in a scratch database ``flywheel_bench_loop``:
`seed_demo` (tiny world, cached under var/bench-loop; the SFT model's round-0 candidates),
gunicorn + one Celery worker (`-Q default,generation,gpu --concurrency 1`, one torch thread) as
`make demo` runs them, simulated annotators ranking every set over HTTP, then one round started
through the REST API and watched until it finishes. Prints each step's wall time (as the round
records it), the training runs' own compute time, and the platform's share of the round (wall
time not spent inside the trainers or sampling: queueing, exports, model registration,
dispatch). Goal: a round in < 3 min on 2 CPU cores. Creates/drops only ``flywheel_bench_loop``.
``--rule`` picks the tiny world's hidden rule (tinyworld.scorer.RULES): the one the simulated
annotators rank by and the loop's oracle scores the policies by. ``--human-eval N``: the round
also asks for a blind human A/B on N held-out prompts; the same simulated annotators rank those
sets when they appear (with Celery beat running, as `make demo` does, so the round notices),
and that step's wall time (people's, not the platform's) is left out of the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from common import ROOT, admin_sql, manage

PORT = 8766
DB = "flywheel_bench_loop"
PASSWORD = "flywheel-demo"


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tinyworld.scorer import DEFAULT_RULE, RULES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", choices=["dpo", "ppo", "grpo"], default="dpo")
    parser.add_argument("--annotators", type=int, default=4)
    parser.add_argument(
        "--rule",
        choices=list(RULES),
        default=DEFAULT_RULE,
        help="The hidden rule the simulated annotators rank by and the loop's oracle scores by.",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument(
        "--seed", type=int, default=0, help="The loop's and the simulated annotators' seed."
    )
    parser.add_argument(
        "--slot",
        type=int,
        default=0,
        help="Run beside other benches: slot N uses its own database, port, Redis database "
        "and directory.",
    )
    parser.add_argument(
        "--sets-per-prompt",
        type=int,
        default=None,
        help="Candidate sets of K per prompt (default: the tiny world's preset).",
    )
    parser.add_argument(
        "--adapter",
        action="store_true",
        help="Train LoRA adapters (tinyworld.presets.TINYWORLD_ADAPTER) instead of every weight.",
    )
    parser.add_argument(
        "--fast-preset",
        action="store_true",
        help="The tiny world's preset before issue 17 (one set per prompt, reward 1e-3 x 2 "
        "epochs, DPO 3 epochs): it learns rules shared by every prompt (polite) and is the one "
        "issue 15's timing goals were set against.",
    )
    parser.add_argument(
        "--human-eval",
        type=int,
        default=0,
        help="Blind human A/B prompts per round (the loop's human_eval_prompts); 0: none.",
    )
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flywheel")
    parts = urlsplit(base_url)
    db = DB + (f"_{args.slot}" if args.slot else "")
    port = PORT + args.slot
    database_url = urlunsplit(parts._replace(path=f"/{db}"))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    redis_url = (
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
        + f"/{14 - args.slot}"
    )
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "FLYWHEEL_ALLOW_INSECURE_KEY": "1",
        "FLYWHEEL_VAR_DIR": str(
            ROOT / "var" / ("bench-loop" + (f"-{args.slot}" if args.slot else ""))
        ),
        "FLYWHEEL_TORCH_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "FLYWHEEL_LOG_LEVEL": "WARNING",
        "FLYWHEEL_LOOP_TICK_SECONDS": "2",
        "DJANGO_SETTINGS_MODULE": "flywheel.settings",
    }
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    # Run directories are keyed by run id, and the scratch database restarts ids at 1: a
    # previous bench's checkpoints would look like this run's to resume from.
    shutil.rmtree(Path(env["FLYWHEEL_VAR_DIR"]) / "models", ignore_errors=True)
    admin_sql(admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    admin_sql(admin_url, f"CREATE DATABASE {db}")
    processes: list[subprocess.Popen] = []
    try:
        manage(env, "migrate", "-v0")
        started = time.perf_counter()
        seed_args = ["--rule", args.rule, "--seed", str(args.seed)]
        sets_per_prompt = 1 if args.fast_preset else args.sets_per_prompt
        if sets_per_prompt:
            seed_args += ["--sets-per-prompt", str(sets_per_prompt)]
        print(manage(env, "seed_demo", *seed_args).strip())
        print(f"seed_demo: {time.perf_counter() - started:.1f} s")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "flywheel.wsgi", "--bind",
                 f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
                cwd=ROOT, env=env,
            )
        )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "flywheel", "worker", "-Q",
                 "default,generation,gpu", "--concurrency", "1", "-l", "warning"],
                cwd=ROOT, env=env,
            )
        )  # fmt: skip
        if args.human_eval:
            beat_schedule = Path(env["FLYWHEEL_VAR_DIR"]) / "bench-beat-schedule"
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "flywheel", "beat", "-l", "warning",
                     "--schedule", str(beat_schedule)],
                    cwd=ROOT, env=env,
                )
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/api/v1/schema/")

        def annotate(seed: int) -> str:
            return manage(
                env, "simulate_annotators", "--project", "demo", "--n", str(args.annotators),
                "--noise", "0.1", "--rule", args.rule, "--url", url, "--seed", str(seed),
            ).strip().splitlines()[-1]  # fmt: skip

        client = httpx.Client(base_url=url, timeout=30)
        token = client.post("/api/v1/auth/token/", json={"username": "admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Token {token.json()['token']}"
        project = next(
            p for p in client.get("/api/v1/projects/").json()["results"] if p["slug"] == "demo"
        )
        # before the annotators finish: with beat running, an automatic loop would start the
        # round itself
        patch = client.patch(
            f"/api/v1/projects/{project['id']}/loop/",
            json={
                "auto": False,
                "policy_kind": args.policy,
                **_loop_configs(args.policy, args.adapter, args.rule, args.fast_preset),
                "human_eval_prompts": args.human_eval,
            },
        )
        patch.raise_for_status()
        started = time.perf_counter()
        print(annotate(args.seed))
        annotate_seconds = time.perf_counter() - started
        started = time.perf_counter()
        response = client.post(f"/api/v1/projects/{project['id']}/rounds/")
        response.raise_for_status()
        round_id = response.json()["id"]
        ab_ranked = False
        while (detail := client.get(f"/api/v1/rounds/{round_id}/").json())["status"] == "running":
            job = detail["human_eval_job"]
            if detail["step"] == "human_eval" and job and not ab_ranked:
                job_status = client.get(f"/api/v1/generation-jobs/{job}/").json()["status"]
                if job_status == "succeeded":
                    print("blind A/B:", annotate(args.seed + 1))
                    ab_ranked = True
            time.sleep(0.5)
        wall = time.perf_counter() - started
        report(client, detail, wall, annotate_seconds)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            admin_sql(admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


# The tiny world's preset before issue 17 (bench/RESULTS.md, issue 15's sections).
FAST_PRESET = {
    "reward_config": {"learning_rate": 1e-3, "num_train_epochs": 2.0},
    "policy_config": {"num_train_epochs": 3.0},
}


def _loop_configs(kind: str, adapter: bool, rule: str, fast: bool) -> dict:
    from tinyworld.presets import tinyworld_loop_settings

    settings = tinyworld_loop_settings(policy_kind=kind, adapter=adapter, rule=rule)
    configs = {k: settings[k] for k in ("policy_config", "reward_config", "adapter", "oracle")}
    if fast:
        configs["reward_config"] |= FAST_PRESET["reward_config"]
        if kind == "dpo":
            configs["policy_config"] |= FAST_PRESET["policy_config"]
    return configs


def report(client: httpx.Client, detail: dict, wall: float, annotate_seconds: float) -> None:
    if detail["status"] not in ("succeeded", "awaiting_decision"):
        raise SystemExit(f"round {detail['status']} at {detail['step']}: {detail['error']}")
    runs = {
        "reward": client.get(f"/api/v1/training-runs/{detail['reward_run']}/").json(),
        detail["policy_kind"]: client.get(f"/api/v1/training-runs/{detail['policy_run']}/").json(),
    }
    if detail.get("judge_run"):
        runs["judge"] = client.get(f"/api/v1/training-runs/{detail['judge_run']}/").json()
    print(f"\nannotation by simulated annotators (not part of the round): {annotate_seconds:.1f} s")
    print(f"\none {detail['policy_kind'].upper()} round, wall time {wall:.1f} s (goal < 180 s)\n")
    print("| step | seconds |\n|---|---|")
    for step, seconds in detail["step_seconds"].items():
        print(f"| {step} | {seconds:.1f} |")
    print(f"| **total** | **{wall:.1f}** |")
    compute = 0.0
    for name, run in runs.items():
        share, rss = (run["final_metrics"].get(k) for k in ("trainable_share", "peak_rss_mib"))
        if share is not None:
            print(f"{name} run: trainable share {share:.4f}, peak RSS {rss:.0f} MiB")
        runtime = run["final_metrics"].get("train_runtime")
        if runtime:
            compute += runtime
            print(f"\n{name} run {run['id']}: trainer's own train_runtime {runtime:.1f} s")
    people = detail["step_seconds"].get("human_eval", 0.0)
    if people:
        print(f"\nblind A/B (generation and the annotators' ranking): {people:.1f} s, not counted")
        wall -= people
    if compute:
        print(f"training compute / round wall time: {compute / wall:.2f}")
        print(f"round wall time / trainers' train_runtime: {wall / compute:.2f} (goal <= 1.3)")
    evaluation = detail["evaluation"]
    print(
        f"\nverdict: {detail.get('verdict')} ({detail['status']}) {detail.get('verdict_reasons')}"
    )
    keys = (
        "reward",
        "judge",
        "win_rate",
        "independent_win_rate",
        "length_controlled_win_rate",
        "human_win_rate",
    )
    for key in keys:
        print(f"  {key}: {evaluation.get(key)}")
    diagnostics = runs["reward"].get("diagnostics") or {}
    print(
        "reward run diagnostics:",
        {k: diagnostics.get(k) for k in ("heldout", "train", "gap", "ceiling")},
    )
    for key in ("base_policy", "policy"):
        row = evaluation.get(key, {})
        print(
            f"  {key}: trait {row.get('trait_rate')}, on-topic {row.get('relevance_rate')}, "
            f"well-formed {row.get('well_formed_rate')}, mean reward {row.get('mean_reward')}"
        )
    print("selection:", detail["selection"])


if __name__ == "__main__":
    main()
