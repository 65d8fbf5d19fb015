"""`wrk` driving a real server with a weighted request mix, and the server's memory.

One owner for the load generator of the HTTP benchmarks (serving, soak): wrk is C and
event-driven, so it outruns our server even on the trivial route (a Python client caps it
near 750 req/s and measures itself). A Lua script draws each request's kind by weight from
prepared requests and counts statuses per kind; ``done`` prints one JSON line we parse.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER = "WRK_JSON "

# (method, path, JSON body or None): one prepared request
Request = tuple[str, str, dict | None]

_LUA = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000 + tid)
  sent, statuses = {}, {}
end

local json_headers = {["Content-Type"] = "application/json"}
for name, value in pairs(HEADERS) do json_headers[name] = value end

function request()
  local r, kind = math.random(TOTAL), nil
  for _, entry in ipairs(WEIGHTS) do
    if r <= entry[2] then kind = entry[1] break end
    r = r - entry[2]
  end
  sent[kind] = (sent[kind] or 0) + 1
  local list = REQUESTS[kind]
  local q = list[math.random(#list)]
  if q[3] == "" then return wrk.format(q[1], q[2], HEADERS) end
  return wrk.format(q[1], q[2], json_headers, q[3])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local function merge(into, from)
  for k, v in pairs(from) do into[tostring(k)] = (into[tostring(k)] or 0) + v end
end

local function encode(t)
  local parts = {}
  for k, v in pairs(t) do table.insert(parts, string.format("%q:%d", tostring(k), v)) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local sent_all, statuses_all = {}, {}
  for _, thread in ipairs(threads) do
    merge(sent_all, thread:get("sent"))
    merge(statuses_all, thread:get("statuses"))
  end
  local e = summary.errors
  io.write(string.format(
    '__MARKER__{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
    '"sent":%s,"statuses":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, encode(sent_all), encode(statuses_all)))
end
""".replace("__MARKER__", MARKER)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk not found on PATH: `make bench` installs it (apt-get install wrk)")


def _lua_string(value: str) -> str:
    return f"[==[{value}]==]"  # a long-bracket string: JSON bodies need no escaping


def write_script(
    path: Path,
    requests: Mapping[str, Sequence[Request]],
    weights: Mapping[str, int],
    headers: Mapping[str, str] | None = None,
) -> Path:
    """A wrk script drawing ``requests[kind]`` with probability ``weights[kind] / total``,
    every request with ``headers``."""
    missing = [k for k, w in weights.items() if w > 0 and not requests.get(k)]
    if missing:
        raise ValueError(f"no prepared requests for {missing}")
    kinds = {k: w for k, w in weights.items() if w > 0}
    tables = []
    for kind in kinds:
        rows = (
            "{" + ",".join(_lua_string(x) for x in (m, p, json.dumps(b) if b else "")) + "}"
            for m, p, b in requests[kind]
        )
        tables.append(f'["{kind}"] = {{{",".join(rows)}}}')
    weight_rows = ",".join("{" + f'"{k}",{w}' + "}" for k, w in kinds.items())
    # "[ " not "[": "[[" would open a Lua long string
    header_rows = ",".join(
        f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in (headers or {}).items()
    )
    head = [
        "HEADERS = {" + header_rows + "}",
        "REQUESTS = {" + ",".join(tables) + "}",
        "WEIGHTS = {" + weight_rows + "}",
        f"TOTAL = {sum(kinds.values())}",
    ]
    path.write_text("\n".join(head) + "\n" + _LUA)
    return path


def run_wrk(base: str, script: Path, seconds: float, connections: int, threads: int = 1) -> dict:
    """wrk's summary: requests, duration, errors, latency percentiles (us), sent/statuses."""
    threads = max(1, min(threads, connections))
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(seconds))}s"]
    cmd += ["--timeout", "30s", "-s", str(script), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 120)
    line = next((x for x in out.stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    return json.loads(line[len(MARKER) :])


def failures(summary: dict) -> int:
    """Non-2xx answers plus socket errors of one wrk summary (the benchmarks' only failure)."""
    errors = summary["errors"]
    non_2xx = sum(v for k, v in summary["statuses"].items() if not k.startswith("2"))
    return non_2xx + sum(errors[k] for k in ("connect", "read", "write", "timeout"))


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (Linux /proc)."""
    total = 0
    for p, _ in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue  # exited meanwhile
    return total * 1024


@dataclass(frozen=True)
class ProcessMemory:
    """One process of a tree: RSS counts every page it maps, shared ones in full; PSS divides
    each page by the number of processes mapping it, so PSS sums to what the tree really uses
    (N workers memory-mapping one run: N x RSS overstates, the sum of PSS does not). Private
    (USS) is what only this process holds: what one more worker would add."""

    pid: int
    parent: int  # its parent's pid (0 for the tree's root)
    command: str  # /proc/<pid>/cmdline, arguments joined by spaces
    rss_bytes: int
    pss_bytes: int
    private_bytes: int = 0


def process_tree(pid: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of ``pid`` (parent 0) and every live descendant, parents first."""
    out, todo = [], [(pid, 0)]
    while todo:
        p, parent = todo.pop(0)
        try:
            tasks = Path(f"/proc/{p}/task").iterdir()
            children = [int(c) for t in tasks for c in (t / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited meanwhile
        out.append((p, parent))
        todo += [(c, p) for c in children]
    return out


def process_memory(pid: int) -> list[ProcessMemory]:
    """RSS, PSS and private memory of ``pid`` and each descendant (``/proc/<pid>/smaps_rollup``,
    Linux 4.14+)."""
    out = []
    for p, parent in process_tree(pid):
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            command = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").strip()
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited meanwhile
        wanted = ("Rss", "Pss", "Private_Clean", "Private_Dirty")
        kb = {k: int(v.split()[0]) for k, v in _fields(rollup, wanted).items()}
        private = (kb["Private_Clean"] + kb["Private_Dirty"]) * 1024
        name = command.decode(errors="replace")
        out.append(ProcessMemory(p, parent, name, kb["Rss"] * 1024, kb["Pss"] * 1024, private))
    return out


def _fields(text: str, names: Sequence[str]) -> dict[str, str]:
    """``Name:   value`` lines of a /proc file, for ``names`` (KeyError names a missing one)."""
    found = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {n: found[n] for n in names}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
