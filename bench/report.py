"""Turn the measured figures into ratios, target verdicts, a Markdown table and JSON."""

from __future__ import annotations

from typing import Any

Results = dict[str, dict[str, Any]]

LOAD_ROWS = [
    ("hello", "hello-world (ceiling)", "GET /"),
    ("isso-read", "Isso 0.14.0", "GET thread (all comments)"),
    ("isso-write", "Isso 0.14.0", "POST new comment"),
    ("vetted-read", "Vetted", "GET approved list (limit=200)"),
    ("vetted-304", "Vetted", "GET with If-None-Match -> 304"),
    ("vetted-write", "Vetted", "POST comment -> 202"),
]


def _rps(results: Results, key: str) -> float | None:
    row = results.get(key)
    return row["rps"] if row and row.get("rps") else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def ratios(results: Results) -> dict[str, float | None]:
    """Each Vetted figure against Isso and against the ceiling, from the same run."""
    hello = _rps(results, "hello")
    return {
        "read_vs_isso": _ratio(_rps(results, "vetted-read"), _rps(results, "isso-read")),
        "read_vs_hello": _ratio(_rps(results, "vetted-read"), hello),
        "not_modified_vs_hello": _ratio(_rps(results, "vetted-304"), hello),
        "write_vs_isso": _ratio(_rps(results, "vetted-write"), _rps(results, "isso-write")),
        "write_vs_hello": _ratio(_rps(results, "vetted-write"), hello),
        "isso_read_vs_hello": _ratio(_rps(results, "isso-read"), hello),
    }


def _verdict(value: float | None, ok: bool) -> str:
    return "n/a" if value is None else ("met" if ok else "missed")


def targets(results: Results, ratio: dict[str, float | None]) -> list[dict[str, Any]]:
    """The targets of issue 7, each with the measured value and met / missed / n/a."""
    read, write = results.get("vetted-read", {}), results.get("vetted-write", {})
    pipe = results.get("vetted-pipeline", {})
    rows: list[tuple[str, float | None, str, Any]] = [
        ("read >= 100x Isso", ratio["read_vs_isso"], "x", lambda v: v >= 100),
        ("read >= 40% of hello-world", ratio["read_vs_hello"], "x", lambda v: v >= 0.4),
        ("read p99 < 50 ms", read.get("p99_ms"), "ms", lambda v: v < 50),
        ("304 within 20% of hello-world", ratio["not_modified_vs_hello"], "x",
         lambda v: v >= 0.8),
        ("write >= 3x Isso", ratio["write_vs_isso"], "x", lambda v: v >= 3),
        ("write p99 < 100 ms", write.get("p99_ms"), "ms", lambda v: v < 100),
        ("write: zero non-2xx", write.get("unexpected"), "", lambda v: v == 0),
        ("pipeline >= 300 decisions/s", pipe.get("decisions_per_s"), "/s",
         lambda v: v >= 300 and pipe.get("complete", False)),
        ("pipeline p99 < 2 s", pipe.get("latency_p99_s"), "s", lambda v: v < 2),
    ]
    return [{"target": name, "value": value, "unit": unit,
             "verdict": _verdict(value, value is not None and bool(check(value)))}
            for name, value, unit, check in rows]


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def markdown(report: dict[str, Any]) -> str:
    results: Results = report["results"]
    ratio = report["ratios"]
    settings = report["settings"]
    lines = ["## Vetted benchmark", ""]
    lines += [f"- {key}: {value}" for key, value in settings.items()]
    lines += ["", "| scenario | server | request | req/s | p50 ms | p99 ms | unexpected status "
              "| socket errors | vs Isso | vs hello |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    vs_isso = {"vetted-read": ratio["read_vs_isso"], "vetted-write": ratio["write_vs_isso"]}
    vs_hello = {"vetted-read": ratio["read_vs_hello"], "vetted-304": ratio["not_modified_vs_hello"],
                "vetted-write": ratio["write_vs_hello"], "isso-read": ratio["isso_read_vs_hello"]}
    for key, server, request in LOAD_ROWS:
        row = results.get(key)
        if row is None:
            continue
        if "skipped" in row:
            lines.append(f"| {key} | {server} | {request} | skipped: {row['skipped']} "
                         "| | | | | | |")
            continue
        isso_x, hello_x = vs_isso.get(key), vs_hello.get(key)
        lines.append(
            f"| {key} | {server} | {request} | {_num(row['rps'])} | {_num(row['p50_ms'], 2)} "
            f"| {_num(row['p99_ms'], 2)} | {row['unexpected']} | {row['socket_errors']} "
            f"| {_num(isso_x, 2) + 'x' if isso_x is not None else '-'} "
            f"| {_num(hello_x * 100, 0) + '%' if hello_x is not None else '-'} |")
    if pipe := results.get("vetted-pipeline"):
        lines += ["", "| pipeline | submissions | clients | non-2xx | decided | seconds "
                  "| decisions/s | latency p50 s | latency p99 s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        if "skipped" in pipe:
            lines.append(f"| vetted-pipeline | skipped: {pipe['skipped']} | | | | | | | |")
        else:
            lines.append(
                f"| vetted-pipeline | {pipe['submissions']} | {pipe['clients']} "
                f"| {pipe['non_2xx']} | {pipe['decided']}{'' if pipe['complete'] else ' (timeout)'}"
                f" | {_num(pipe['seconds'], 2)} | {_num(pipe['decisions_per_s'])} "
                f"| {_num(pipe['latency_p50_s'], 3)} | {_num(pipe['latency_p99_s'], 3)} |")
    if check := results.get("vetted-check"):
        lines += ["", "| checks | comments | comments/s (one core) | with start-up | start-up s |",
                  "|---|---:|---:|---:|---:|"]
        if "skipped" in check:
            lines.append(f"| vetted check --jsonl | {check['skipped']} | | | |")
        else:
            lines.append(f"| vetted check --jsonl | {check['comments']} "
                         f"| {_num(check['comments_per_s'])} "
                         f"| {_num(check['comments_per_s_with_startup'])} "
                         f"| {_num(check['startup_seconds'], 2)} |")
    lines += ["", "| target (issue 7) | measured | verdict |", "|---|---:|---|"]
    for target in report["targets"]:
        value = target["value"]
        shown = "-" if value is None else f"{_num(value, 2)}{target['unit']}"
        lines.append(f"| {target['target']} | {shown} | {target['verdict']} |")
    lines.append("| worker RSS flat within 10% over 50,000 decisions | run "
                 "bench/worker_memory.py | - |")
    return "\n".join(lines) + "\n"
