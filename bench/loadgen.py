"""Drive wrk with bench/lua/bench.lua and read back its one-line JSON summary."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua" / "bench.lua"
WRK = "/usr/bin/wrk"


@dataclass(frozen=True)
class WrkSettings:
    """The load generator's knobs; printed with every result."""

    threads: int = 2
    connections: int = 32
    duration: float = 10.0


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # Answers outside the expected status class (2xx, or 304 for the conditional GET).
    unexpected: int
    socket_errors: int
    statuses: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def parse_summary(stdout: str) -> LoadResult:
    """The BENCH_JSON line printed by the Lua done() hook."""
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line.removeprefix("BENCH_JSON "))
            break
    else:
        raise RuntimeError(f"wrk printed no BENCH_JSON line:\n{stdout}")
    seconds = raw["duration_us"] / 1e6
    return LoadResult(
        requests=raw["requests"],
        seconds=round(seconds, 3),
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        unexpected=raw["unexpected"],
        socket_errors=sum(raw["socket_errors"].values()),
        statuses=dict(sorted(raw["statuses"].items())),
    )


def run_wrk(url: str, settings: WrkSettings, script_env: dict[str, str]) -> LoadResult:
    """One bounded wrk run against `url`; script_env configures bench.lua (see its header)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the benchmark only loads 127.0.0.1, not {url}")
    duration = max(1, round(settings.duration))
    command = [WRK, "--threads", str(settings.threads), "--connections",
               str(settings.connections), "--duration", f"{duration}s", "--timeout", "10s",
               "--script", str(LUA), url]
    env = {**os.environ, **script_env}
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_summary(done.stdout)
