"""The processes a benchmark run starts, and what they cost (CPU time, memory)."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

from omniroute.bench.http import HttpClient

STOP_SECONDS = 15.0
"""How long a stopped process may take to finish what it runs before it is killed."""


class BenchError(Exception):
    """The benchmark could not run; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A started program, its output kept in a log file of the run."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(
                list(command), env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def require_running(self) -> None:
        if not self.running():
            raise BenchError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean-up of any kind."""
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    async def stop(self) -> None:
        """SIGTERM (finish what runs, then exit), SIGKILL after ``STOP_SECONDS``."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.popen.wait, STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()


def omniroute_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "omniroute", *arguments]


async def wait_ready(process: Process, client: HttpClient, path: str, seconds: float = 60.0) -> None:
    """Until ``GET path`` answers 200 (the process has started and serves)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process.require_running()
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
            if (await asyncio.wait_for(client.request("GET", path), 5)).status == 200:
                return
        await asyncio.sleep(0.1)
    raise BenchError(f"{process.name} did not answer GET {path} within {seconds:g} s:\n{process.tail()}")


class ResourceMeter:
    """CPU time and resident memory of a set of processes and their children, sampled.

    CPU time is cumulative per process; the last sample of a process that has exited
    (killed) still counts. Peak memory is the largest sum of resident set sizes seen at
    one sample."""

    def __init__(self) -> None:
        self.roots: list[int] = []
        self.cpu_by_pid: dict[int, float] = {}
        self.peak_rss_bytes = 0

    def track(self, pid: int) -> None:
        self.roots.append(pid)

    def sample(self) -> None:
        rss = 0
        for root in self.roots:
            try:
                parent = psutil.Process(root)
                family = [parent, *parent.children(recursive=True)]
            except psutil.Error:
                continue
            for member in family:
                try:
                    with member.oneshot():
                        times = member.cpu_times()
                        memory = member.memory_info().rss
                except psutil.Error:
                    continue
                self.cpu_by_pid[member.pid] = times.user + times.system
                rss += memory
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)

    def cpu_seconds(self, pids: set[int] | None = None) -> float:
        """Total CPU time so far (of ``pids`` only, when given), as of the last sample."""
        return sum(cpu for pid, cpu in self.cpu_by_pid.items() if pids is None or pid in pids)

    async def run(self, every: float = 0.2) -> None:
        while True:
            self.sample()
            await asyncio.sleep(every)


def environment(overrides: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **overrides}
