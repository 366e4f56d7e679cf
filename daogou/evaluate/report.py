"""An HTML evaluation report with PNG plots: training curves, metrics per model, cold-start and
history-length slices. Plain files (report.html + *.png) that open anywhere; matplotlib's Agg backend."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def write_report(folder: Path, results: dict[str, dict[str, Any]], training: dict[str, dict[str, Any]],
                 title: str = "daogou evaluation") -> Path:
    """``results[model]`` is :func:`daogou.evaluate.protocols.evaluate` output; ``training[model]`` a
    :class:`~daogou.rec.train.TrainResult` dict (may be empty). Returns the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    plots = [p for p in (_curves(folder, training), _bars(folder, results), _cold(folder, results),
                         _lengths(folder, results)) if p]
    rows = "".join(_row(name, r) for name, r in results.items())
    images = "".join(f'<figure><img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}"></figure>'
                     for p in plots)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}th:first-child,td:first-child{{text-align:left}}
figure{{display:inline-block;margin:1rem}}img{{max-width:500px}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Full ranking over all items (no history masking); sampled: target vs 100 random unseen items.</p>
<table><tr><th>model</th><th>NDCG@10</th><th>HR@10</th><th>MRR</th><th>NDCG@10 (sampled 100)</th>
<th>cold NDCG@10</th><th>cases</th></tr>{rows}</table>{images}
<details><summary>raw results (JSON)</summary><pre>{html.escape(json.dumps(results, indent=1))}</pre></details>
</body></html>"""
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def _row(name: str, r: dict[str, Any]) -> str:
    full, sampled = r["full"], r.get("sampled_100", {})
    cold = r.get("cold_targets", {})
    cells = [full["ndcg@10"], full["hr@10"], full["mrr"], sampled.get("ndcg@10", float("nan")),
             cold.get("ndcg@10", float("nan"))]
    return (f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{v:.4f}</td>" for v in cells)
            + f"<td>{full['cases']}</td></tr>")


def _curves(folder: Path, training: dict[str, dict[str, Any]]) -> Path | None:
    series = {m: t.get("history", []) for m, t in training.items() if t.get("history")}
    if not series:
        return None
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    for model, hist in series.items():
        epochs = [h["epoch"] for h in hist]
        a.plot(epochs, [h["loss"] for h in hist], marker=".", label=model)
        b.plot(epochs, [h["valid"] for h in hist], marker=".", label=model)
    a.set(title="training loss", xlabel="epoch")
    b.set(title="validation NDCG@10", xlabel="epoch")
    b.legend()
    return _save(fig, folder / "training_curves.png")


def _bars(folder: Path, results: dict[str, dict[str, Any]]) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(results)
    metrics = ("ndcg@10", "hr@10", "mrr")
    width = 0.8 / len(metrics)
    for i, m in enumerate(metrics):
        ax.bar([x + i * width for x in range(len(names))], [results[n]["full"][m] for n in names], width, label=m)
    ax.set_xticks([x + width for x in range(len(names))], names)
    ax.set(title="full-ranking metrics per model")
    ax.legend()
    return _save(fig, folder / "metrics.png")


def _cold(folder: Path, results: dict[str, dict[str, Any]]) -> Path | None:
    names = [n for n in results if "cold_targets" in results[n]]
    if not names or all(results[n]["cold_targets"]["cases"] == 0 for n in names):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for i, part in enumerate(("warm_targets", "cold_targets")):
        ax.bar([x + i * 0.4 for x in range(len(names))], [results[n][part]["ndcg@10"] for n in names], 0.4,
               label=part.replace("_", " "))
    ax.set_xticks([x + 0.2 for x in range(len(names))], names)
    ax.set(title="NDCG@10: items seen in training vs cold items")
    ax.legend()
    return _save(fig, folder / "cold_start.png")


def _lengths(folder: Path, results: dict[str, dict[str, Any]]) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, r in results.items():
        slices = r["by_history_length"]
        ax.plot(list(slices), [s["ndcg@10"] for s in slices.values()], marker="o", label=name)
    ax.set(title="NDCG@10 by history length", xlabel="events before the target")
    ax.legend()
    return _save(fig, folder / "history_length.png")


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path
