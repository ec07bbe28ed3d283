"""Paper-style tables (PR-RRN's Tables 1, 2, 4 and the classic sequences): our runs beside published values.

Each table is rows = methods (ours: mean ± std over seeds, per evaluation group), then the published rows
(from results/published.csv, marked "(published)"), columns = the datasets of one family. Only unperturbed,
completed runs are used.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd

from nrsfm_bench import report

GROUP_NAMES = {"train": "seen", "test": "unseen", "all": ""}
CMU_SUBJECTS = ("07", "20", "23", "33", "34", "38", "39", "43", "93")
PASCAL_CATEGORIES = ("aeroplane", "bicycle", "bus", "car", "chair", "diningtable", "motorbike", "sofa")
CLASSIC_SEQUENCES = ("drink", "pickup", "stretch", "yoga", "dance", "face", "walking", "shark")
MEAN_COLUMN = "mean (columns we ran)"
ABLATION_METHODS = ("rrn", "rrn_contrast", "rrn_consist", "vanilla_rrn", "pr_rrn")


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """What one paper-style table shows.

    Attributes:
        stem: output file stem; title: caption's first sentence.
        families: dataset families (the part of a dataset name before "/") whose runs form the columns;
            empty means every dataset the table's methods ran on.
        columns: preferred column order (dataset variants); others follow alphabetically.
        methods: registry names shown (None = every method with runs), in this order.
        groups: evaluation groups shown per method, when a run has them (else its own split's group).
        preset: the e3D convention.
        published: the `table` values of results/published.csv set beside ours.
        mean_column: add a column with each row's mean over the columns that have runs of ours (for rows with
            a value in each of them; the paper's own average covers its columns, so it is not shown).
    """

    stem: str
    title: str
    families: tuple[str, ...]
    columns: tuple[str, ...] = ()
    methods: tuple[str, ...] | None = None
    groups: tuple[str, ...] = ("all",)
    preset: str = "dnrsfm"
    published: tuple[str, ...] = ()
    mean_column: bool = False


TABLES = (
    TableSpec("table1_cmu", "Table-1 style: e3D on CMU MOCAP subjects, seen (training) and unseen (test) frames",
              ("cmu_mocap",), CMU_SUBJECTS, groups=("train", "test"), published=("table1",)),
    TableSpec("table2_pascal3d", "Table-2 style: e3D on PASCAL3D+ categories", ("pascal3d",), PASCAL_CATEGORIES,
              published=("table2",), mean_column=True),
    TableSpec("table4_ablation", "Table-4 style ablation: RRN, its pairwise losses, the vanilla network and PR-RRN",
              (), ("20", "23", "33", "43", "93"), methods=ABLATION_METHODS, groups=("train",),
              published=("table3", "table4")),
    TableSpec("classic_akhter", "The eight classic sequences under the akhter preset (Akhter et al.'s compareStructs)",
              ("classic",), CLASSIC_SEQUENCES, preset="akhter", published=("classic",)),
    TableSpec("classic_dnrsfm", "The eight classic sequences under the dnrsfm preset", ("classic",),
              CLASSIC_SEQUENCES, preset="dnrsfm", published=("classic",)),
)


@dataclasses.dataclass(frozen=True)
class PaperTable:
    """A built table: `cells` for display (strings), `long` for CSV, caption and notes."""

    spec: TableSpec
    cells: pd.DataFrame
    long: pd.DataFrame
    caption: str
    notes: tuple[str, ...]


def _variant(dataset: str) -> str:
    """"cmu_mocap/7 [stride=4]" → "07 [stride=4]"; numeric variants are zero-padded to two digits."""
    name, _, params = dataset.partition(" [")
    variant = name.partition("/")[2] or name
    if variant.isdigit():
        variant = f"{int(variant):02d}"
    return variant + (f" [{params}" if params else "")


def _row_label(method: str, group: str, show_groups: bool, tag: str = "") -> str:
    """"pr_rrn (unseen)", "PR-RRN (published, seen)", "bmm"."""
    parts = [p for p in (tag, GROUP_NAMES.get(group, group) if show_groups else "") if p]
    return f"{method} ({', '.join(parts)})" if parts else method


def measured_rows(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Our runs for the table: one row per (method label, group, column, seed) with its e3D."""
    rows = frame[(frame["preset"] == spec.preset) & (frame["perturbation"] == "") & (frame["status"] == "ok")]
    rows = rows.dropna(subset=["e3d"])
    family = rows["dataset_name"].str.partition("/")[0]
    if spec.families:
        rows = rows[family.isin(spec.families)]
    if spec.methods is not None:
        rows = rows[rows["method_name"].isin(spec.methods)]
    if rows.empty:
        return rows.assign(column=[], row_group=[])
    wanted = rows["group"].isin(spec.groups)
    has_wanted = rows[wanted].groupby("key").size()
    fallback = ~rows["key"].isin(has_wanted.index) & (rows["group"] == rows["split"])  # per-sequence runs
    rows = rows[wanted | fallback]
    return rows.assign(column=[_column(spec, d) for d in rows["dataset"]], row_group=rows["group"])


def _column(spec: TableSpec, dataset: str) -> str:
    """A dataset's column: its variant within a family table; mixed tables keep the family, but CMU subjects."""
    return _variant(dataset) if spec.families or dataset.startswith("cmu_mocap/") else dataset


def published_rows(published: pd.DataFrame, spec: TableSpec, columns: set[str]) -> pd.DataFrame:
    rows = published[published["table"].isin(spec.published) & (published["preset"] == spec.preset)]
    if rows.empty:
        return rows.assign(column=[])
    column = [_column(spec, d) for d in rows["dataset"]]
    # a run with non-default dataset parameters ("23 [stride=4]") takes the published value of its variant
    column = [c if c in columns else next((k for k in sorted(columns) if k.startswith(c + " [")), c)
              for c in column]
    return rows.assign(column=column)


def _order(columns: set[str], preferred: tuple[str, ...]) -> list[str]:
    first = [c for p in preferred for c in sorted(columns) if c == p or c.startswith(p + " [")]
    return first + sorted(columns - set(first))


def build(spec: TableSpec, frame: pd.DataFrame, published: pd.DataFrame, digits: int = 4) -> PaperTable | None:
    """The table, or None when there is no run of ours for it."""
    ours = measured_rows(frame, spec)
    if ours.empty:
        return None
    theirs = published_rows(published, spec, set(ours["column"]))
    theirs = theirs[theirs["column"] != "average"]  # the paper's average covers its columns, not ours
    show_groups = len(spec.groups) > 1
    ours = ours.assign(row=[_row_label(m, g, show_groups) for m, g in zip(ours["method"], ours["row_group"])])
    stats = ours.groupby(["row", "column"], sort=False)["e3d"].agg(["mean", "std", "count"]).reset_index()
    long = [{"row": r.row, "column": r.column, "kind": "ours", "mean": r.mean, "std": r.std, "n": int(r.count),
             "source": "this store"} for r in stats.itertuples()]
    long += [{"row": _row_label(r.label, r.group, show_groups, "published"), "column": r.column,
              "kind": "published", "mean": r.value, "std": math.nan, "n": 1, "source": r.source}
             for r in theirs.itertuples()]
    long_frame = pd.DataFrame(long)
    columns = _order(set(long_frame["column"]), spec.columns)
    order = _row_order(ours, spec) + list(dict.fromkeys(long_frame.loc[long_frame["kind"] == "published", "row"]))
    cells = pd.DataFrame("–", index=pd.Index(order, name="method"), columns=columns)
    for r in long_frame.itertuples():
        cells.loc[r.row, r.column] = (report.format_cell(r.mean, r.std, r.n, digits) if r.kind == "ours"
                                      else f"{r.mean:g}")
    if spec.mean_column:  # over the columns we ran, for every row that has all of them
        ran = set(ours["column"])
        means = long_frame[long_frame["column"].isin(ran)].groupby("row")["mean"].agg(["mean", "count"])
        cells[MEAN_COLUMN] = [f"{means.loc[row, 'mean']:.{digits}f}"
                              if row in means.index and means.loc[row, "count"] == len(ran) else "–"
                              for row in cells.index]
    return PaperTable(spec, cells, long_frame, _caption(spec, ours), _notes(spec, ours, theirs))


def _row_order(ours: pd.DataFrame, spec: TableSpec) -> list[str]:
    rank = {m: i for i, m in enumerate(spec.methods or ())}
    keys = ours[["row", "method_name", "method", "row_group"]].drop_duplicates("row")
    group_rank = {"all": 0, "train": 1, "test": 2}
    keys = keys.assign(r=[rank.get(m, len(rank)) for m in keys["method_name"]],
                       g=[group_rank.get(g, 3) for g in keys["row_group"]])
    return list(keys.sort_values(["r", "method", "g"])["row"])


def _caption(spec: TableSpec, ours: pd.DataFrame) -> str:
    seeds = sorted(ours.groupby(["row", "column"])["seed"].nunique().unique())
    n = ", ".join(str(s) for s in seeds)
    return (f"{spec.title}. e3D, preset {spec.preset}; ours: mean ± std over seeds (n = {n} per cell), "
            "published rows marked (published).")


def _notes(spec: TableSpec, ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[str, ...]:
    notes = []
    protocols = sorted(p for p in ours["protocol"].unique() if p)
    if protocols:
        notes.append(f"Our data protocol: {', '.join(protocols)} (recorded with each run); published values may "
                     "follow another protocol — compare with care.")
    groups = set(ours["row_group"])
    if len(spec.groups) > 1 and {"train", "test"} & groups:
        notes.append("seen = training frames of an inductive method; unseen = its test split; per-sequence "
                     "methods reconstruct all frames (no suffix).")
    elif spec.groups == ("train",):
        notes.append("Frames: the seen (training) frames on datasets with a train/test split, all frames otherwise.")
    for source, rows in theirs.groupby("source", sort=False):
        notes.append(f"(published) {source}: {'; '.join(dict.fromkeys(rows['note']))}")
    return tuple(notes)


def write(table: PaperTable, out: Path) -> str:
    """Write `<stem>.md`, `.tex` (booktabs) and `.csv` (long: row, column, kind, mean, std, n, source)."""
    notes_md = "".join(f"\n- {n}" for n in table.notes)
    markdown = report.to_markdown(table.cells, f"**{table.caption}**") + notes_md + ("\n" if notes_md else "")
    latex = report.to_latex(table.cells, table.caption) + "".join(f"% {n}\n" for n in table.notes)
    report.write_text(out / f"{table.spec.stem}.md", markdown)
    report.write_text(out / f"{table.spec.stem}.tex", latex)
    report.write_text(out / f"{table.spec.stem}.csv", table.long.to_csv(index=False))
    return markdown


def build_all(frame: pd.DataFrame, published: pd.DataFrame) -> tuple[list[PaperTable], list[str]]:
    """Every paper table with runs, and a line for each one left out."""
    built, skipped = [], []
    for spec in TABLES:
        table = build(spec, frame, published)
        if table is None:
            where = f"{'/'.join(spec.families)} datasets" if spec.families else "any dataset"
            who = f" by {', '.join(spec.methods)}" if spec.methods else ""
            skipped.append(f"{spec.stem}: no unperturbed runs{who} on {where} under preset {spec.preset}")
        else:
            built.append(table)
    return built, skipped
