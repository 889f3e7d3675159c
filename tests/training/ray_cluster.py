"""A real two-node Ray cluster on loopback for the Ray executor's tests.

Ray rewrites 127.0.0.1 to the machine's network address, so the nodes take 127.0.0.2 (head)
and 127.0.0.3 (worker), which it keeps: no connection leaves loopback. Each node is started
with a private ``--temp-dir`` and ``--block`` in its own process group, and only those groups
are killed at the end (``ray stop`` would stop every Ray process on the machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HEAD_IP = "127.0.0.2"
WORKER_IP = "127.0.0.3"
BASE_DIR = Path(__file__).resolve().parents[2]


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class RayNode:
    ip: str
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """Kill the node and every process it started at once (raylet and its Ray workers,
        which have process groups of their own): a lost node."""
        import psutil

        if self.process.poll() is not None:
            return
        descendants = psutil.Process(self.process.pid).children(recursive=True)
        os.killpg(self.process.pid, signal.SIGKILL)
        for process in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.process.wait()


@dataclass
class RayCluster:
    address: str
    temp_dir: Path
    env: dict[str, str]
    nodes: list[RayNode] = field(default_factory=list)

    def start_node(self, ip: str, *, head: bool, resources: str = "") -> RayNode:
        ray = str(BASE_DIR / ".venv" / "bin" / "ray")
        if head:
            host, port = self.address.split(":")
            command = [ray, "start", "--head", f"--port={port}", "--include-dashboard=false"]
        else:
            command = [ray, "start", f"--address={self.address}"]
        command += [
            f"--node-ip-address={ip}",
            "--num-cpus=1",
            "--num-gpus=0",
            f"--temp-dir={self.temp_dir}",
            "--disable-usage-stats",
            "--block",
        ]
        if resources:
            command.append(f"--resources={resources}")
        log = self.temp_dir.parent / f"node-{ip}.log"
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        node = RayNode(ip, process, log)
        self.nodes.append(node)
        return node

    def wait_for_nodes(self, count: int, timeout: float = 90) -> None:
        import ray

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.process.poll() is not None:
                    raise RuntimeError(f"ray node {node.ip} exited:\n{node.log.read_text()}")
            if len([n for n in ray.nodes() if n["Alive"]]) >= count:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{count} Ray nodes did not come up in {timeout} s")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.kill()
        shutil.rmtree(self.temp_dir.parent, ignore_errors=True)


def start_cluster(env: dict[str, str]) -> RayCluster:
    """Head (127.0.0.2, resource ``head``) and worker (127.0.0.3, resource ``worker``), one CPU
    each; the driver (this process) is connected to it."""
    import ray

    root = Path(tempfile.mkdtemp(prefix="fwray-", dir="/tmp"))  # Unix socket paths are short
    cluster = RayCluster(address=f"{HEAD_IP}:{free_port(HEAD_IP)}", temp_dir=root / "ray", env=env)
    try:
        cluster.start_node(HEAD_IP, head=True, resources='{"head": 1}')
        time.sleep(3)
        cluster.start_node(WORKER_IP, head=False, resources='{"worker": 1}')
        ray.init(address=cluster.address, _node_ip_address=HEAD_IP, log_to_driver=False)
        cluster.wait_for_nodes(2)
    except BaseException:
        ray.shutdown()
        cluster.stop()
        raise
    return cluster
