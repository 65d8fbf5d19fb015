"""Matplotlib figures for the report, returned as PNG bytes (embedded base64 in the HTML)."""

from __future__ import annotations

import io

import numpy as np


def _figure(width: float = 7.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers and CI
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(width, height), dpi=100)


def _png(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def metric_by_model(
    models: list[dict], metrics: tuple[str, ...] = ("ndcg@10", "recall@20")
) -> bytes:
    """Grouped bars: one group per model, one bar per metric, 95% CI error bars."""
    plt, fig, ax = _figure(max(6.0, 1.1 * len(models) + 2))
    x = np.arange(len(models))
    width = 0.8 / len(metrics)
    for j, metric in enumerate(metrics):
        means = np.array([m["metrics"][metric]["mean"] for m in models])
        lo = np.array([m["metrics"][metric]["lo"] for m in models])
        hi = np.array([m["metrics"][metric]["hi"] for m in models])
        err = np.nan_to_num(np.vstack([means - lo, hi - means]), nan=0.0).clip(min=0)
        ax.bar(x + j * width, means, width, yerr=err, capsize=3, label=metric)
    ax.set_xticks(x + width * (len(metrics) - 1) / 2)
    ax.set_xticklabels([m["name"] for m in models], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("mean over test users")
    ax.legend(fontsize=8)
    ax.set_title("Test metrics by model (95% bootstrap CI)")
    return _png(plt, fig)


def grouped(values: dict[str, dict[str, float | None]], title: str, ylabel: str) -> bytes:
    """Bars of ``values[group][series]`` (e.g. ablation modality → warm/cold recall)."""
    groups = list(values)
    series = sorted({s for v in values.values() for s in v})
    plt, fig, ax = _figure(max(6.0, 0.9 * len(groups) + 2))
    x = np.arange(len(groups))
    width = 0.8 / max(len(series), 1)
    for j, s in enumerate(series):
        ys = [values[g].get(s) for g in groups]
        ax.bar(x + j * width, [np.nan if y is None else y for y in ys], width, label=s)
    ax.set_xticks(x + width * (len(series) - 1) / 2)
    ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _png(plt, fig)


def by_bucket(buckets: dict) -> bytes:
    """Lines: metric per user-activity bucket, one line per model."""
    plt, fig, ax = _figure()
    labels = [f"{lab}\n(n={n})" for lab, n in zip(buckets["labels"], buckets["users"], strict=True)]
    for name, ys in buckets["models"].items():
        ax.plot(labels, [np.nan if y is None else y for y in ys], marker="o", label=name)
    ax.set_xlabel("train history length (interactions)")
    ax.set_ylabel(buckets["metric"])
    ax.set_title(f"{buckets['metric']} by user activity")
    ax.legend(fontsize=7)
    return _png(plt, fig)


def feature_gain(gain: dict[str, float], top: int = 20) -> bytes:
    """Horizontal bars: the ranker's total gain per feature (its largest ``top``), as a share."""
    items = sorted(gain.items(), key=lambda kv: -kv[1])[:top][::-1]
    total = sum(gain.values()) or 1.0
    plt, fig, ax = _figure(7.0, 0.28 * len(items) + 1.2)
    ax.barh([k for k, _ in items], [v / total for _, v in items])
    ax.set_xlabel("share of the ranker's total gain")
    ax.set_title("What the ranker uses (warm requests)")
    return _png(plt, fig)


def headline(
    models: list[dict], highlight: str | None, best: str | None, diff: dict | None, metric: str
) -> bytes:
    """The report's first plot: ``metric`` per model with 95% CI, ``highlight`` (the served
    pipeline) in orange and ``best`` (the best baseline) in blue.

    ``models`` rows carry name/mean/lo/hi; ``diff`` (the paired difference highlight − best
    baseline, with a/b/mean/lo/hi) gets its own panel with the zero line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(models, key=lambda m: m["mean"])  # best at the top of a horizontal bar chart
    height = 0.32 * len(rows) + 1.3
    if diff:
        fig, (ax, dx) = plt.subplots(
            1, 2, figsize=(9.0, height), dpi=100, gridspec_kw={"width_ratios": [3, 1.4]}
        )
    else:
        fig, ax = plt.subplots(figsize=(7.0, height), dpi=100)
    means = np.array([m["mean"] for m in rows])
    err = np.nan_to_num(
        np.vstack([means - [m["lo"] for m in rows], [m["hi"] for m in rows] - means]), nan=0.0
    ).clip(min=0)
    palette = {highlight: "#d9541a", best: "#3b6ea5"}
    colors = [palette.get(m["name"], "#b8c0c8") for m in rows]
    ax.barh([m["name"] for m in rows], means, xerr=err, capsize=3, color=colors)
    ax.set_xlabel(f"{metric} (95% bootstrap CI)")
    ax.set_title(f"{metric} per model, primary split")
    if diff:
        lo, hi = diff["mean"] - diff["lo"], diff["hi"] - diff["mean"]
        dx.errorbar(
            [diff["mean"]],
            [0],
            xerr=[[max(lo, 0)], [max(hi, 0)]],
            fmt="o",
            capsize=4,
            color="#d9541a",
        )
        dx.axvline(0.0, color="#555", lw=1, ls="--")
        dx.set_yticks([0], [f"{diff['a']}\n− {diff['b']}"], fontsize=8)
        dx.set_xlabel(f"paired difference in {metric}")
        dx.set_title("95% paired bootstrap CI")
    return _png(plt, fig)
