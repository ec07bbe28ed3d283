"""A full report from a results store: overview and paper-style tables, robustness curves, reconstruction
pictures, an animation, and one HTML page that brings them together.

    <out>/<metric>_<preset>_<group>.{md,tex,csv}   methods × datasets overview (mean ± std over seeds)
    <out>/tables/<table>.{md,tex,csv}              Table-1/2/4 style and classic-sequence tables
    <out>/figures/robustness*.{png,pdf}, .csv      e3D vs noise / training fraction / missing ratios (+ the data)
    <out>/figures/reconstruction_*.png             ground truth and prediction overlaid, chosen frames
    <out>/figures/animation_*.gif                  one sequence, animated
    <out>/index.html                               everything above, self-contained
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TextIO

import pandas as pd

from nrsfm_bench import html_report, paper_tables, published, report
from nrsfm_bench.errors import NrsfmError, UsageError
from nrsfm_bench.figures import slug
from nrsfm_bench.store import ResultsStore

PARTS = ("overview", "paper", "curves", "reconstructions", "animation", "html")
MAX_PICTURES = 6


@dataclasses.dataclass
class ReportOptions:
    """What to put in a report (see `nrsfm-bench report --help`)."""

    preset: str = "dnrsfm"
    group: str = "all"
    metric: str = "e3d"
    parts: tuple[str, ...] = PARTS
    published_path: str | None = None
    methods: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    show: tuple[str, ...] = ()
    frames: tuple[int, ...] = ()
    gif: str | None = None
    data_root: str | None = None
    perturbed: bool = False


@dataclasses.dataclass
class ReportResult:
    """What was written, the overview as markdown, and notes on what was left out."""

    written: list[Path] = dataclasses.field(default_factory=list)
    overview: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)


def _matches(record: dict, methods: tuple[str, ...], datasets: tuple[str, ...]) -> bool:
    method_names = {record["method"]["name"], report.label("method", record["method"])}
    dataset_names = {record["dataset"]["name"], report.label("dataset", record["dataset"])}
    return (not methods or bool(method_names & set(methods))) and (not datasets or bool(dataset_names & set(datasets)))


def _e3d(record: dict, preset: str) -> float | None:
    if record["status"] != "ok":
        return None
    return record["evaluation"][record["split"]].get("presets", {}).get(preset, {}).get("e3d")


def pick_runs(records: list[dict], preset: str, show: tuple[str, ...]) -> list[dict]:
    """Runs to draw: each `METHOD@DATASET` of `show` (its lowest seed), or by default, for each dataset (up to
    6), the unperturbed run of the method with the lowest mean e3D."""
    candidates = [r for r in records if not r.get("perturbation") and _e3d(r, preset) is not None]
    if show:
        chosen = []
        for item in show:
            method, sep, dataset = item.partition("@")
            hits = [r for r in candidates if sep and _matches(r, (method,), (dataset,))]
            if not hits:
                pairs = sorted({f"{r['method']['name']}@{r['dataset']['name']}" for r in candidates})
                raise UsageError(f"--show {item!r}: no unperturbed run with 3D ground truth; expected METHOD@DATASET, "
                                 f"one of: {', '.join(pairs[:12]) or 'none in this store'}")
            chosen.append(min(hits, key=lambda r: r["seed"]))
        return chosen
    frame = pd.DataFrame([{"dataset": report.label("dataset", r["dataset"]), "method": report.label("method", r["method"]),
                           "e3d": _e3d(r, preset), "record": r} for r in candidates])
    if frame.empty:
        return []
    chosen = []
    for _, rows in list(frame.groupby("dataset", sort=True))[:MAX_PICTURES]:
        best = rows.groupby("method")["e3d"].mean().idxmin()
        chosen.append(min(rows[rows["method"] == best]["record"], key=lambda r: r["seed"]))
    return chosen


def _summary(store: ResultsStore, records: list[dict]) -> list[str]:
    ok = sum(r["status"] == "ok" for r in records)
    commits = sorted({(r.get("provenance", {}).get("git", {}).get("commit") or "unknown")[:10] for r in records})
    dates = sorted(r.get("provenance", {}).get("date", "") for r in records if r.get("provenance", {}).get("date"))
    machines = sorted({f"{m.get('hostname')} ({m.get('cpus')} CPUs)" for m in
                       (r.get("provenance", {}).get("machine", {}) for r in records) if m})
    lines = [f"results store: {store.root.resolve()}",
             f"{len(records)} runs ({ok} completed, {len(records) - ok} skipped); "
             f"{len({r['method']['name'] for r in records})} methods, {len({r['dataset']['name'] for r in records})} datasets",
             f"code: commit(s) {', '.join(commits)}"]
    if dates:
        lines.append(f"run between {dates[0]} and {dates[-1]} on {', '.join(machines[:4])}")
    return lines


def make_report(store: ResultsStore, out: Path, options: ReportOptions) -> ReportResult:
    """Write the report's parts under `out` (see the module docstring)."""
    unknown = sorted(set(options.parts) - set(PARTS))
    if unknown:
        raise UsageError(f"--only {','.join(unknown)}: unknown part; expected some of {', '.join(PARTS)}")
    records = [r for r in store.records() if _matches(r, options.methods, options.datasets)]
    if not records:
        what = " matching --methods/--datasets" if options.methods or options.datasets else ""
        raise UsageError(f"the results store {store.root} has no runs{what}; run `nrsfm-bench run` or "
                         "`nrsfm-bench sweep` first")
    records, superseded = report.latest_per_configuration(records)
    result, sections = ReportResult(), []
    if superseded:
        result.notes.append(f"{superseded} older run(s) of a configuration that was run again (same labels, "
                            "seed and perturbation; the newest is used)")
    frame = report.records_frame(records)
    parts = set(options.parts)
    if "overview" in parts:
        sections.append(_overview(frame, out, options, result))
    if "paper" in parts:
        sections += _paper(frame, out, options, result)
    if "curves" in parts:
        sections += _curves(records, out / "figures", options, result)
    if parts & {"reconstructions", "animation"}:
        sections += _pictures(store, records, out / "figures", options, result)
    if "html" in parts:
        title = f"nrsfm-bench report: {store.root.name}"
        result.written.append(html_report.write_page(out / "index.html", title, _summary(store, records) + [
            f"left out: {n}" for n in result.notes], sections))
    return result


def _overview(frame: pd.DataFrame, out: Path, options: ReportOptions, result: ReportResult) -> html_report.Section:
    if not options.perturbed:
        perturbed = frame.loc[frame["perturbation"] != "", "key"].nunique()
        frame = frame[frame["perturbation"] == ""]
        if perturbed:
            result.notes.append(f"overview: {perturbed} perturbed runs (in the robustness curves and "
                                "figures/robustness.csv; --with-perturbed adds them as columns)")
    summary = report.summarize(frame, options.preset, options.group, options.metric)
    preset_text = f"preset {options.preset}" if options.metric != "reprojection" else "2D"
    caption = f"{options.metric} ({preset_text}, frames: {options.group}); mean ± std over seeds"
    stem = f"{options.metric}_{options.preset}_{options.group}"
    table = report.pivot(summary)
    result.overview = report.write_table(out, stem, table, summary, caption)
    files = [out / f"{stem}.{ext}" for ext in ("md", "tex", "csv")]
    result.written += files
    return html_report.table_section("Overview: methods × datasets", table, caption, [], files, out)


def _paper(frame: pd.DataFrame, out: Path, options: ReportOptions, result: ReportResult) -> list[html_report.Section]:
    values = published.load_published(options.published_path)
    if values.empty:
        result.notes.append("published values: results/published.csv not found (pass --published FILE)")
    tables, skipped = paper_tables.build_all(frame, values)
    result.notes += skipped
    sections = []
    for table in tables:
        paper_tables.write(table, out / "tables")
        files = [out / "tables" / f"{table.spec.stem}.{ext}" for ext in ("md", "tex", "csv")]
        result.written += files
        sections.append(html_report.table_section(table.spec.title, table.cells, table.caption, table.notes,
                                                  files, out))
    return sections


def _curves(records: list[dict], out: Path, options: ReportOptions, result: ReportResult) -> list[html_report.Section]:
    from nrsfm_bench.figures.curves import write_curves

    written = write_curves(records, out, options.preset, options.group)
    if not written:
        result.notes.append("robustness curves: no dataset has runs at two or more levels of one perturbation")
        return []
    result.written += written
    pngs = [p for p in written if p.suffix == ".png"]
    pngs = [p for p in pngs if p.stem == "robustness"] or pngs
    caption = ("e3D against perturbation level, one line per method: mean over seeds, shaded ± one standard "
               "deviation; dashed: measured at the unperturbed level only.")
    return [html_report.figure_section("Robustness", pngs, [p for p in written if p.suffix in (".pdf", ".csv")],
                                       out.parent, caption)]


def _pictures(store: ResultsStore, records: list[dict], out: Path, options: ReportOptions,
              result: ReportResult) -> list[html_report.Section]:
    from nrsfm_bench.figures import reconstructions

    sections = []
    runs = pick_runs(records, options.preset, options.show)
    if not runs:
        result.notes.append("reconstructions: no unperturbed run with 3D ground truth")
        return []
    if "reconstructions" in options.parts:
        images = []
        for record in runs:
            try:
                run = reconstructions.load_aligned(store, record, options.preset, options.data_root)
            except NrsfmError as error:
                result.notes.append(f"reconstruction of {record['key']}: {error}")
                continue
            stem = out / f"reconstruction_{slug(record['method']['name'])}_{slug(record['dataset']['name'])}"
            images += reconstructions.write_frames(run, stem, list(options.frames) or None)
        result.written += images
        if images:
            sections.append(html_report.figure_section("Reconstructions", images, [], out.parent,
                                                       f"Aligned under the {options.preset} preset; frame numbers "
                                                       "index the dataset."))
    if "animation" in options.parts:
        gif_runs = pick_runs(records, options.preset, (options.gif,)) if options.gif else \
            sorted(runs, key=lambda r: not r["dataset"].get("ordered", False))[:1]
        for record in gif_runs:
            run = reconstructions.load_aligned(store, record, options.preset, options.data_root)
            path = out / f"animation_{slug(record['method']['name'])}_{slug(record['dataset']['name'])}.gif"
            result.written.append(reconstructions.write_animation(run, path))
            sections.append(html_report.figure_section("Animation", [path], [], out.parent, run.title))
    return sections


def print_written(result: ReportResult, out: Path, stream: TextIO) -> None:
    for note in result.notes:
        print(f"left out: {note}", file=stream)
    print(f"written under {out}: " + ", ".join(sorted({str(p.relative_to(out)) for p in result.written})),
          file=stream)
