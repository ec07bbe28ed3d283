"""Aggregating run records into tables (methods × datasets, mean ± std over seeds) as markdown, LaTeX and CSV."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import pandas as pd
from tabulate import tabulate

from nrsfm_bench.errors import NrsfmError
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.store import atomic_path


def _defaults(kind: str, name: str) -> dict:
    """Constructor defaults of a registered component (empty when it is no longer registered)."""
    from nrsfm_bench.registry import DATASETS, METHODS

    try:
        entry, variant = (METHODS if kind == "method" else DATASETS).resolve(name)
    except NrsfmError:
        return {}
    return {**entry.cls.param_defaults(), **variant}


def label(kind: str, spec: dict) -> str:
    """A component's name plus the parameters that differ from its defaults (seed excluded)."""
    defaults = _defaults(kind, spec["name"])
    changed = {k: v for k, v in sorted(spec.get("params", {}).items())
               if k != "seed" and (k not in defaults or defaults[k] != v)}
    if not changed:
        return spec["name"]
    return f"{spec['name']} [{', '.join(f'{k}={v}' for k, v in changed.items())}]"


def latest_per_configuration(records: Iterable[dict]) -> tuple[list[dict], int]:
    """One record per configuration as a report sees it (method and dataset labels, split, seed, perturbation):
    the most recent by its provenance date. The same configuration can sit in a store under two keys when a
    method gained a parameter whose default reproduces the old behaviour (the key hashes every parameter, the
    label only those that differ from their defaults); counting both would weigh that seed twice.

    Returns:
        The kept records, in store order, and the number dropped.
    """
    records = list(records)
    latest: dict[tuple, int] = {}
    for position, record in enumerate(records):
        identity = (label("method", record["method"]), label("dataset", record["dataset"]), record["split"],
                    record["seed"], Perturbation.from_dict(record.get("perturbation", {})).label())
        date = record.get("provenance", {}).get("date", "")
        if identity not in latest or date >= records[latest[identity]].get("provenance", {}).get("date", ""):
            latest[identity] = position
    kept = sorted(latest.values())
    return [records[i] for i in kept], len(records) - len(kept)


def records_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per (record, evaluation group, preset): the long form every table is pivoted from.

    Columns: key, method, dataset, method_name, dataset_name, split, group, preset, seed, perturbation,
    e3d, mpjpe, stress, reprojection, frames, status, protocol (the dataset's, e.g. PASCAL3D+ "cad-views").
    """
    rows = []
    for record in records:
        base = {"key": record["key"], "method": label("method", record["method"]),
                "dataset": label("dataset", record["dataset"]), "method_name": record["method"]["name"],
                "dataset_name": record["dataset"]["name"], "split": record["split"], "seed": record["seed"],
                "perturbation": Perturbation.from_dict(record.get("perturbation", {})).label(),
                "status": record["status"], "protocol": record["dataset"].get("meta", {}).get("protocol", "")}
        for group, block in record.get("evaluation", {}).items():
            presets = block["presets"] or {None: {}}  # 2D-only data: reprojection error alone
            for preset, metrics in presets.items():
                rows.append({**base, "group": group, "preset": preset, "e3d": metrics.get("e3d"),
                             "mpjpe": metrics.get("mpjpe"), "stress": metrics.get("stress"),
                             "reprojection": block["reprojection"], "frames": block["frames"]})
    columns = ["key", "method", "dataset", "method_name", "dataset_name", "split", "group", "preset", "seed",
               "perturbation", "e3d", "mpjpe", "stress", "reprojection", "frames", "status", "protocol"]
    return pd.DataFrame(rows, columns=columns)


def summarize(frame: pd.DataFrame, preset: str, group: str = "all", metric: str = "e3d") -> pd.DataFrame:
    """Mean, std and count over seeds of `metric` for each (method, dataset), for one preset and group.

    Perturbed runs are kept apart: their dataset label gets the perturbation appended.
    """
    rows = frame[(frame["preset"] == preset) & (frame["group"] == group)].dropna(subset=[metric]).copy()
    rows["dataset"] = rows["dataset"].where(rows["perturbation"] == "", rows["dataset"] + " {" + rows["perturbation"] + "}")
    return (rows.groupby(["method", "dataset"])[metric].agg(["mean", "std", "count"]).reset_index()
            .rename(columns={"count": "n"}))


def format_cell(mean: float, std: float, n: int, digits: int = 4) -> str:
    if n > 1 and not math.isnan(std):
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def pivot(summary: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """Rows methods, columns datasets, cells 'mean ± std' (std shown when there are ≥ 2 seeds)."""
    if summary.empty:
        return pd.DataFrame()
    cells = summary.assign(cell=[format_cell(m, s, n, digits) for m, s, n in
                                 zip(summary["mean"], summary["std"], summary["n"])])
    return cells.pivot(index="method", columns="dataset", values="cell").fillna("–")


def to_markdown(table: pd.DataFrame, caption: str) -> str:
    body = tabulate(table, headers="keys", tablefmt="github") if not table.empty else "(no runs)"
    return f"{caption}\n\n{body}\n"


def _tex(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                          ("{", r"\{"), ("}", r"\}"), ("±", r"$\pm$"), ("–", "--")):
        text = text.replace(char, escaped)
    return text


def to_latex(table: pd.DataFrame, caption: str) -> str:
    """A booktabs tabular (needs \\usepackage{booktabs})."""
    if table.empty:
        return f"% {caption}: no runs\n"
    columns = [table.index.name or "", *table.columns]
    lines = [f"% {caption}", r"\begin{tabular}{l" + "r" * len(table.columns) + "}", r"\toprule",
             " & ".join(_tex(str(c)) for c in columns) + r" \\", r"\midrule"]
    for index, row in table.iterrows():
        lines.append(" & ".join(_tex(str(v)) for v in (index, *row.tolist())) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_table(out: Path, stem: str, table: pd.DataFrame, summary: pd.DataFrame, caption: str) -> str:
    """Write `<stem>.md`, `<stem>.tex` and `<stem>.csv` (long form: method, dataset, mean, std, n) under `out`."""
    markdown = to_markdown(table, caption)
    write_text(out / f"{stem}.md", markdown)
    write_text(out / f"{stem}.tex", to_latex(table, caption))
    write_text(out / f"{stem}.csv", summary.to_csv(index=False))
    return markdown
