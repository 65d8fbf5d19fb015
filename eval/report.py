"""Write an evaluation as report.html (self-contained), report.md and metrics.json."""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path

from eval import plots
from eval.verdict import first_screen

SUMMARY_COLUMNS = ("ndcg@10", "recall@20", "map@10", "mrr@10", "hitrate@10")


def fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_rows(section: dict, kmax: int = 20) -> list[dict]:
    """One row per model: the headline metrics with CIs and the beyond-accuracy numbers."""
    rows = []
    for m in section.get("models", []):
        row = {"model": m["name"], "params": m.get("params", {})}
        for col in SUMMARY_COLUMNS:
            s = m["metrics"].get(col)
            row[col] = s and f"{fmt(s['mean'])} [{fmt(s['lo'], 3)}, {fmt(s['hi'], 3)}]"
        for key in ("coverage", "novelty", "popularity_bias", "diversity"):
            row[key] = fmt(m["beyond"].get(f"{key}@{kmax}"), 3)
        rows.append(row)
    return rows


def summary_table(section: dict, kmax: int = 20) -> str:
    """Plain-text table (models × headline metrics) for the terminal and the Markdown report."""
    cols = ["model", *SUMMARY_COLUMNS, "coverage", "novelty", "popularity_bias"]
    rows = summary_rows(section, kmax)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c) or "–") for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def thumbnail(path: Path | None, width: int = 72) -> str | None:
    """A small JPEG data URI of a poster, or None if missing/unreadable."""
    if path is None or not path.is_file():
        return None
    try:
        from PIL import Image

        with Image.open(path) as opened:
            im = opened.convert("RGB")
            im.thumbnail((width, int(width * 1.5)))
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=80)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        # escape HTML only: Markdown must keep ">=" and quotes readable
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_report(
    report_dir: Path,
    report: dict,
    figures: dict[str, bytes],
    examples: list[dict] | None = None,
) -> dict[str, Path]:
    """Write the three files; ``report`` must be JSON-able (it is metrics.json verbatim).

    ``examples`` rows carry display data (titles and thumbnail data URIs) that stays out of the
    JSON.
    """
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": report_dir / "metrics.json",
        "md": report_dir / "report.md",
        "html": report_dir / "report.html",
    }
    paths["json"].write_text(json.dumps(report, indent=2, default=_json_default))
    kmax = max(report.get("ks", [20]))
    sections = [
        {
            "key": key,
            "title": title,
            "data": report["sections"][key],
            "rows": summary_rows(report["sections"][key], kmax),
            "table": summary_table(report["sections"][key], kmax),
        }
        for key, title in report.get("section_titles", {}).items()
        if key in report.get("sections", {})
    ]
    images = {k: _data_uri(v) for k, v in figures.items()}
    verdict = first_screen(report)
    if verdict:
        png = plots.headline(
            verdict["models"],
            verdict["pipeline"],
            verdict["best"],
            verdict["diff"],
            verdict["metric"],
        )
        verdict["image"] = _data_uri(png)
    ctx = {
        "r": report,
        "verdict": verdict,
        "sections": sections,
        "images": images,
        "examples": examples or [],
        "fmt": fmt,
        "columns": SUMMARY_COLUMNS,
    }
    env = _env()
    paths["md"].write_text(env.get_template("report.md.j2").render(**ctx))
    paths["html"].write_text(env.get_template("report.html.j2").render(**ctx))
    return paths


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
