"""`recsys demo` (= `make run`): the whole pipeline on the synthetic catalog, then the server.

Every stage is the same function its own CLI command calls, so the demo proves the commands
compose. Re-running is idempotent: the dataset is regenerated only when its config changed,
embeddings are incremental, and each train/index run is a new versioned artifact.

The server starts as soon as the run is published; the evaluation (`recsys evaluate`, the very
command, with its defaults) runs meanwhile in a child process at low CPU priority and writes
``<workspace>/reports/demo/report.html`` (its output: ``reports/demo.log``). Without a server
(``serve=False``) the evaluation is the last stage, in the foreground.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from recsys.core.workspace import Workspace

# The demo catalog: half the items and users of `recsys data synth`'s defaults at the same
# density (interactions = 5 % of the user x item matrix, ~50 per user). Embedding costs per
# item (text, poster, trailer frames, reviews), ranker training per user: at 2,000 items and
# 1,000 users, 7.4 min of stages before the server on 2 idle cores (README "make run").
DEMO_ITEMS, DEMO_USERS, DEMO_INTERACTIONS = 1000, 500, 25_000

# `<workspace>/embed.json` of the demo, written where the workspace has none. Posters are
# 96x144 and trailer frames 64x96 pixels, upsampled to the encoder's input either way; the
# smaller inputs keep what the vectors know (600 titles of the 2,000-item catalog, genre
# precision@5 of cosine neighbours / Pearson r of pairwise cosines with the generator's style
# latents: posters 224 px 0.950 / 0.357, 128 px 0.951 / 0.342; trailers 128 px 0.921 / 0.194,
# 96 px 0.919 / 0.188) for a quarter of the poster and 70 % of the trailer encoding time
# (1,000 items on 2 idle cores: 49 -> 12 s, 44 -> 32 s). The ranking pipeline keeps its
# defaults: on the demo's validation users (held-out label users of the evaluation's
# train+valid frame, as `python -m recsys.app.pipeline_sweep` fits it) they beat the two
# time-saving settings tried, `label_windows` 2 and `learning_rate` 0.1 (NDCG@10 0.184 vs
# 0.172 and 0.176, 77 users), and train takes under a minute at this size.
DEMO_EMBED: dict = {"encoder_options": {"image": {"image_size": 128}, "video": {"frame_size": 96}}}

REPORT = "demo"  # <workspace>/reports/demo/
READY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class StageTime:
    wall: float  # seconds
    cpu: float  # CPU seconds of this process and its finished children, all threads


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children (media workers)."""
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _stage(
    name: str,
    fn: Callable[[], str | None],
    timings: dict[str, StageTime],
    show: Callable[[str], None] = print,
) -> None:
    """Run one stage: its header, its summary line (through ``show``), its time in ``timings``
    (printed in one table at the end)."""
    print(f"==> {name}", flush=True)
    wall, cpu = time.perf_counter(), cpu_seconds()
    summary = fn()
    timings[name] = StageTime(time.perf_counter() - wall, cpu_seconds() - cpu)
    if summary:
        show(summary)


def timing_table(timings: dict[str, StageTime]) -> str:
    """Per-stage wall and CPU seconds, one line each, plus the total (load: ``uptime``)."""
    total = StageTime(sum(t.wall for t in timings.values()), sum(t.cpu for t in timings.values()))
    rows = [*timings.items(), ("total", total)]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    head = f"stage timings (load average {load}):"
    return "\n".join([head] + [f"  {n:<11} {t.wall:7.1f}s wall {t.cpu:7.1f}s cpu" for n, t in rows])


def _one_row(line: str) -> None:
    """A progress line cut to the terminal's width (the full text is in the run's manifest);
    whole when the output is not a terminal (a log keeps everything)."""
    width = max(shutil.get_terminal_size().columns, 80)
    if sys.stdout.isatty() and len(line) > width:
        line = line[: width - 1] + "…"
    print(line, flush=True)


def _synth_if_needed(out: Path, cfg) -> str:
    from recsys.datasets.synthetic import generate

    manifest = out / "dataset.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("config") == asdict(cfg):
        return f"synth: {out} already holds this dataset (delete it to regenerate)"
    return generate(cfg, out)


def write_demo_configs(ws: Workspace) -> list[str]:
    """Write the demo's ``embed.json`` unless the workspace has one (kept: yours, or the
    demo's from an earlier run); returns a line when the one kept is not the demo's."""
    from features.jobs.config import CONFIG_FILE

    path = ws.root / CONFIG_FILE
    if not path.exists():
        path.write_text(json.dumps(DEMO_EMBED, indent=2) + "\n")
    elif json.loads(path.read_text()) != DEMO_EMBED:
        return [f"config: keeping {path} (not the demo's; delete it to use the demo's)"]
    return []


def run_demo(
    ws: Workspace,
    host: str = "127.0.0.1",
    port: int = 8000,
    items: int = DEMO_ITEMS,
    users: int = DEMO_USERS,
    interactions: int = DEMO_INTERACTIONS,
    serve: bool = True,
) -> str:
    """synth → preprocess → embed → train → index, then serve with the evaluation in the
    background (``serve=False``: evaluate in the foreground and return).

    Prints one line per step and a table of each stage's wall and CPU seconds.
    """
    from features.jobs.embed import run_embed
    from recsys.app.evaluate import run_evaluate
    from recsys.app.publish import run_index
    from recsys.app.train import run_train
    from recsys.datasets.preprocess import preprocess
    from recsys.datasets.synthetic import SynthConfig

    ws.ensure()
    raw = ws.raw_dir / "synthetic"
    cfg = SynthConfig(items=items, users=users, interactions=interactions, seed=0, media=True)
    for note in write_demo_configs(ws):
        print(note, flush=True)
    timings: dict[str, StageTime] = {}
    _stage("synth", lambda: _synth_if_needed(raw, cfg), timings)
    _stage("preprocess", lambda: preprocess(raw, ws), timings)
    # embed's summary repeats its per-table lines: one terminal row of it is enough
    _stage("embed", lambda: run_embed(ws, modalities=None, engine="local"), timings, _one_row)
    _stage("train", lambda: run_train(ws, update=False, log=_one_row), timings)
    _stage("index", lambda: run_index(ws, kind=None), timings)
    report = ws.reports_dir / REPORT
    if not serve:
        _stage("evaluate", lambda: run_evaluate(ws, report), timings)
        print("\n" + timing_table(timings))
        return f"demo: pipeline complete (not serving); report at {report / 'report.html'}"

    print("\n" + timing_table(timings), flush=True)
    job = BackgroundEvaluation.start(ws, report)
    print(
        f"==> evaluate: in the background (low priority); the report, when done: "
        f"{report / 'report.html'} (log: {job.log})",
        flush=True,
    )
    url = f"http://{host}:{port}"
    threading.Thread(target=job.announce, daemon=True).start()
    threading.Thread(target=announce_ready, args=(url, host, port), daemon=True).start()
    print(f"==> serve: starting on {url}", flush=True)
    from serving.run import run_server

    try:
        # the demo page lists the synthetic users and their histories: public on the demo only
        run_server(ws, host=host, port=port, public_user_pages=True)
    finally:
        job.stop()
    return "demo: server stopped"


@dataclass
class BackgroundEvaluation:
    """`recsys evaluate --report <report>` in a child process (nice 10), output in a log."""

    process: subprocess.Popen
    report: Path
    log: Path
    started: float

    @classmethod
    def start(
        cls, ws: Workspace, report: Path, command: list[str] | None = None
    ) -> BackgroundEvaluation:
        """Start ``command`` (default: `recsys evaluate` on ``ws`` into ``report``)."""
        report.parent.mkdir(parents=True, exist_ok=True)
        log = report.parent / f"{report.name}.log"
        cmd = command or [
            *(sys.executable, "-m", "recsys.app.cli", "--workspace", str(ws.root)),
            *("evaluate", "--report", str(report)),
        ]
        nice = shutil.which("nice")
        if nice:  # the server's requests come first on a small machine
            cmd = [nice, "-n", "10", *cmd]
        env = dict(os.environ)
        if ws.store_uri:
            env["RECSYS_LANCEDB_URI"] = ws.store_uri
        with log.open("w") as out:
            process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        return cls(process, report, log, time.perf_counter())

    def announce(self) -> None:
        """Wait for the child, then say where the report is (or why there is none)."""
        code = self.process.wait()
        minutes = (time.perf_counter() - self.started) / 60
        if code == 0:
            report = self.report / "report.html"
            print(f"evaluation done in {minutes:.1f} min: {report}", flush=True)
        elif code > 0:  # negative: stopped by a signal, said by ``stop``
            print(f"evaluation failed (exit status {code}): see {self.log}", flush=True)

    def stop(self) -> None:
        """Stop an unfinished evaluation (the server is going away), saying how to rerun it;
        also when a signal already stopped it (Ctrl-C reaches the whole process group)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.returncode < 0:
            print(f"evaluation stopped; rerun: recsys evaluate --report {self.report}", flush=True)


def announce_ready(url: str, host: str, port: int, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``/ready`` and print the serving banner once the run is loaded."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with opener.open(f"http://{local}:{port}/ready", timeout=2) as response:
                if response.status == 200:
                    break
        except urllib.error.HTTPError as exc:  # 503: still loading, or the load failed
            state = _json(exc.read())
            if state.get("status") == "error":
                print(f"server up, but the run did not load: {state.get('error')}", flush=True)
                return
        except OSError:  # not listening yet
            pass
        time.sleep(0.5)
    else:
        print(f"server not ready after {timeout:.0f}s: see the log above", flush=True)
        return
    print(
        f"\nserving on {url}  (web page: {url}/ , API docs: {url}/docs)\n"
        f"try: curl -s '{url}/users/1/recommendations?k=5'",
        flush=True,
    )


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
