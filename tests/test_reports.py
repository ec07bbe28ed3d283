"""Reports: published values, paper-style tables, robustness curves, reconstruction pictures, GIF and HTML."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import components  # noqa: F401 (registers the test components)
from nrsfm_bench import paper_tables, report
from nrsfm_bench.cli import main
from nrsfm_bench.errors import DataFormatError
from nrsfm_bench.figures import curves, reconstructions
from nrsfm_bench.perturbations import Perturbation
from nrsfm_bench.published import load_published
from nrsfm_bench.runner import RunConfig, run
from nrsfm_bench.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# ------------------------------------------------------------------------------------------------ published values
def shared_text(name: str) -> str:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} not found (it sits beside the repository in the workspace and in CI)")
    return path.read_text()


def test_published_table1_and_table4_match_the_shared_transcription():
    text = shared_text("PR-RRN.md")
    values = load_published()
    subjects = re.search(r"\| subject \| (.+) \|", text).group(1).split(" | ")
    for row, (method, group) in {"DNRSFM": ("dnrsfm", "train"), "PR-RRN": ("pr_rrn", "train"),
                                 "PR-RRN unseen": ("pr_rrn", "test")}.items():
        numbers = re.search(rf"^\| {row} \| (.+) \|$", text, re.M).group(1).split(" | ")
        ours = values[(values.table == "table1") & (values.method == method) & (values.group == group)]
        assert dict(zip(ours.dataset, ours.value)) == {f"cmu_mocap/{s}": float(v) for s, v in zip(subjects, numbers)}
    ablation = re.search(r"Table 4, ablation on CMU subjects (.+?): (.+?)\.\n", text, re.S)
    columns = [s.strip() for s in ablation.group(1).replace("and", ",").split(",") if s.strip()]
    for name, method in (("RRN", "rrn"), ("RRN-Contrast", "rrn_contrast"), ("RRN-Consist", "rrn_consist"),
                         ("PR-RRN", "pr_rrn")):
        numbers = re.search(rf"(?:^|; ){name} ((?:[\d.]+ ?)+)", ablation.group(2).replace("\n", " ")).group(1).split()
        ours = values[(values.table == "table4") & (values.method == method)]
        assert dict(zip(ours.dataset, ours.value)) == {f"cmu_mocap/{s}": float(v) for s, v in zip(columns, numbers)}
    table2 = re.search(r"Table 2, PASCAL3D\+ \(PR-RRN / DNRSFM\): (.+?)\.\n", text, re.S).group(1).replace("\n", " ")
    for category, pr_rrn, dnrsfm in re.findall(r"(\w+) ([\d.]+) / ([\d.]+)", table2):
        for method, value in (("pr_rrn", pr_rrn), ("dnrsfm", dnrsfm)):
            row = values[(values.table == "table2") & (values.method == method)
                         & (values.dataset == f"pascal3d/{category}")]
            assert row.value.tolist() == [float(value)], (category, method)


def test_published_dai_values_match_the_evaluation_notes():
    text = shared_text("EVALUATION.md")
    values = load_published()
    found = re.findall(r"(drink|yoga) \(K=(\d+)\) (\d+\.\d+)", text)
    assert len(found) == 2
    for sequence, K, value in found:
        row = values[(values.method == "bmm") & (values.dataset == f"classic/{sequence}")]
        assert row.value.tolist() == [float(value)] and row.preset.tolist() == ["akhter"]
        assert f"K={K}" in row.note.iloc[0]
    assert (values.source.str.len() > 0).all()


@pytest.mark.parametrize("content, needle", [
    ("table,method\n", "column(s) label, dataset"),
    ("table,method,label,dataset,group,preset,value,source,note\nt,m,M,d,seen,dnrsfm,0.1,src,\n", "line 2: group"),
    ("table,method,label,dataset,group,preset,value,source,note\nt,m,M,d,all,dnrsfm,x,src,\n", "line 2: value"),
    ("table,method,label,dataset,group,preset,value,source,note\nt,m,M,d,all,dnrsfm,0.1, ,\n", "needs its source"),
])
def test_malformed_published_file_names_file_and_line(tmp_path, content, needle):
    path = tmp_path / "published.csv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=re.escape(needle)) as error:
        load_published(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


# ------------------------------------------------------------------------------------------------ paper tables
def fake_record(method: str, dataset: str, seed: int, groups: dict, preset: str = "dnrsfm", protocol: str = "",
                dataset_params: dict | None = None) -> dict:
    """A record as the runner writes it, reduced to what the report reads."""
    return {"key": f"{method}-{dataset}-{seed}-{sorted(groups)}", "status": "ok", "split": "all", "seed": seed,
            "perturbation": {}, "method": {"name": method, "params": {}},
            "dataset": {"name": dataset, "params": dataset_params or {}, "meta": {"protocol": protocol}},
            "frames": {"inductive": "train" in groups},
            "evaluation": {g: {"frames": 10, "reprojection": 0.0, "presets": {preset: {"e3d": v}}}
                           for g, v in groups.items()}}


def test_table1_has_seen_and_unseen_rows_with_mean_std_over_seeds_beside_published():
    records = [fake_record("pr_rrn", "cmu_mocap/23", seed, {"all": 0.1, "train": 0.04 + 0.01 * seed,
                                                            "test": 0.2 + 0.02 * seed}) for seed in range(3)]
    records.append(fake_record("tomasi_kanade", "cmu_mocap/23", 0, {"all": 0.5}))
    table = paper_tables.build(paper_tables.TABLES[0], report.records_frame(records), load_published())
    cells = table.cells
    seen = np.array([0.04, 0.05, 0.06])
    assert cells.loc["pr_rrn (seen)", "23"] == f"{seen.mean():.4f} ± {seen.std(ddof=1):.4f}"
    unseen = np.array([0.2, 0.22, 0.24])
    assert cells.loc["pr_rrn (unseen)", "23"] == f"{unseen.mean():.4f} ± {unseen.std(ddof=1):.4f}"
    assert cells.loc["tomasi_kanade", "23"] == "0.5000"  # per-sequence: all frames, one seed
    assert cells.loc["PR-RRN (published, seen)", "23"] == "0.039"
    assert cells.loc["PR-RRN (published, unseen)", "23"] == "0.249"
    assert cells.loc["pr_rrn (seen)", "07"] == "–" and cells.loc["PR-RRN (published, seen)", "07"] == "0.024"
    assert list(cells.columns[:3]) == ["07", "20", "23"]
    assert "n = 1, 3" in table.caption and any("Table 1" in n for n in table.notes)


def test_table2_mean_column_protocol_note_and_parameters_matched_to_published(tmp_path):
    records = [fake_record("pr_rrn", f"pascal3d/{c}", 0, {"all": v}, protocol="cad-views",
                           dataset_params={"views": 100} if c == "sofa" else None)
               for c, v in (("aeroplane", 0.02), ("sofa", 0.04))]
    table = paper_tables.build(paper_tables.TABLES[1], report.records_frame(records), load_published())
    assert table.cells.loc["pr_rrn", "mean (columns we ran)"] == "0.0300"
    assert "sofa [views=100]" in table.cells.columns
    assert table.cells.loc["PR-RRN (published)", "sofa [views=100]"] == "0.007"  # the published sofa value
    assert table.cells.loc["DNRSFM (published)", "mean (columns we ran)"] == f"{(0.024 + 0.004) / 2:.4f}"
    assert any("cad-views" in n for n in table.notes)
    markdown = paper_tables.write(table, tmp_path)
    assert "(published)" in markdown and (tmp_path / "table2_pascal3d.tex").read_text().count(r"\toprule") == 1
    long = pd.read_csv(tmp_path / "table2_pascal3d.csv")
    assert set(long["kind"]) == {"ours", "published"} and (long.loc[long.kind == "published", "source"]
                                                           .str.contains("Table 2")).all()


def test_ablation_and_classic_tables_pick_their_methods_presets_and_published_rows():
    records = [fake_record(m, "classic/drink", 0, {"all": 0.03}, preset="akhter") for m in ("bmm", "flat")]
    records += [fake_record(m, "cmu_mocap/20", 0, {"all": 0.1, "train": 0.05, "test": 0.2})
                for m in ("rrn", "pr_rrn", "em_ppca")]
    frame = report.records_frame(records)
    published = load_published()
    ablation = paper_tables.build(paper_tables.TABLES[2], frame, published)
    assert list(ablation.cells.index[:2]) == ["rrn", "pr_rrn"] and "em_ppca" not in ablation.cells.index
    assert ablation.cells.loc["pr_rrn", "20"] == "0.0500"  # seen frames
    assert ablation.cells.loc["Vanilla RRN (published)", "20"] == "0.147"
    classic = paper_tables.build(paper_tables.TABLES[3], frame, published)
    assert classic.cells.loc["BMM (published)", "drink"] == "0.0266"
    assert classic.cells.loc["BMM (published)", "yoga"] == "0.115" and classic.cells.loc["bmm", "yoga"] == "–"
    assert paper_tables.build(paper_tables.TABLES[4], frame, published) is None  # no dnrsfm runs on classic


# ------------------------------------------------------------------------------------------------ figures
SMALL = {"frames": 24, "test_fraction": 0.25}


@pytest.fixture(scope="module")
def robustness_store(tmp_path_factory) -> ResultsStore:
    store = ResultsStore(tmp_path_factory.mktemp("robustness"))
    for seed in (0, 1, 2):
        for level in (Perturbation(), Perturbation(noise=0.1), Perturbation(noise=0.2),
                      Perturbation(train_fraction=0.5)):
            run(RunConfig("test_inductive", "synthetic/articulated", dataset_params=SMALL, seed=seed,
                          perturbation=level), store)
        run(RunConfig("tomasi_kanade", "synthetic/articulated", dataset_params=SMALL, seed=seed), store)
        run(RunConfig("tomasi_kanade", "synthetic/articulated", dataset_params=SMALL, seed=seed,
                      perturbation=Perturbation(noise=0.2)), store)
    return store


def test_curves_put_unperturbed_runs_on_every_axis_and_draw_mean_and_spread(robustness_store):
    records = robustness_store.records()
    points = curves.curve_points(records, "dnrsfm")
    inductive = points[points["method"] == "test_inductive"]
    assert sorted(inductive[inductive.axis == "noise"]["level"].unique()) == [0.0, 0.1, 0.2]
    assert sorted(inductive[inductive.axis == "train_fraction"]["level"].unique()) == [0.5, 1.0]
    dataset = points["dataset"].iloc[0]
    layout = curves.panels(points)
    assert layout == {dataset: ["noise", "train_fraction"]}

    figure = curves.draw(points, [dataset], layout, "dnrsfm", "all")
    noise_ax, fraction_ax = figure.axes[:2]
    expected = {level: np.mean([r["evaluation"]["all"]["presets"]["dnrsfm"]["e3d"] for r in records
                                if r["method"]["name"] == "test_inductive" and r["perturbation"].get("noise", 0) == level
                                and "train_fraction" not in r["perturbation"]]) for level in (0.0, 0.1, 0.2)}
    lines = [l for l in noise_ax.get_lines() if len(l.get_xdata()) == 3]
    assert any(np.allclose(l.get_ydata(), [expected[x] for x in (0.0, 0.1, 0.2)]) for l in lines)
    assert len(noise_ax.collections) == 2  # a shaded band per method (3 seeds each)
    tk_unperturbed = np.mean([r["evaluation"]["all"]["presets"]["dnrsfm"]["e3d"] for r in records
                              if r["method"]["name"] == "tomasi_kanade" and not r["perturbation"]])
    dashed = [l for l in fraction_ax.get_lines() if l.get_linestyle() == "--"]
    assert len(dashed) == 1 and np.allclose(dashed[0].get_ydata(), tk_unperturbed)  # per-sequence: a reference
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "tomasi_kanade (per-sequence: all frames)" in labels


def test_aligned_reconstruction_reproduces_the_scored_per_frame_error(robustness_store):
    record = next(r for r in robustness_store.records()
                  if r["method"]["name"] == "tomasi_kanade" and not r["perturbation"] and r["seed"] == 1)
    aligned = reconstructions.load_aligned(robustness_store, record, "dnrsfm")
    errors = np.linalg.norm(aligned.X - aligned.G, axis=(1, 2)) / np.linalg.norm(aligned.G, axis=(1, 2))
    stored = record["evaluation"]["all"]["presets"]["dnrsfm"]["per_frame"]
    assert np.allclose(errors, stored) and np.allclose(aligned.e3d, stored)
    assert aligned.edges is not None and aligned.X.shape == (24, aligned.G.shape[1], 3)


def test_report_writes_tables_figures_gif_and_an_offline_html_page(robustness_store, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "report"
    status = main(["report", "--store", str(robustness_store.root), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert status == 0 and "test_inductive" in stdout and "left out: table1_cmu" in stdout
    for name in ("e3d_dnrsfm_all.md", "e3d_dnrsfm_all.tex", "e3d_dnrsfm_all.csv", "figures/robustness.png",
                 "figures/robustness.pdf", "index.html"):
        assert (out / name).stat().st_size > 0, name
    pictures = sorted(out.glob("figures/reconstruction_*.png"))
    assert len(pictures) == 1  # one dataset: the best method's run
    gif = next(out.glob("figures/animation_*.gif"))
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == 24  # every evaluated frame (fewer than 60)
    page = (out / "index.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page and "<link" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 3 and all(s.startswith("data:image/") for s in sources)  # curves, picture, GIF
    hrefs = [h for h in re.findall(r'href="([^"]*)"', page) if not h.startswith("#")]
    assert hrefs and all((out / h).exists() for h in hrefs)  # links only to files beside the page
    data = pd.read_csv(out / "figures" / "robustness.csv")
    noise = data[(data.method == "test_inductive") & (data.axis == "noise")].sort_values("level")
    assert noise["level"].tolist() == [0.0, 0.1, 0.2] and noise["n"].tolist() == [3, 3, 3]
    assert "overview: 12 perturbed runs" in stdout and "noise=" not in (out / "e3d_dnrsfm_all.md").read_text()
    mean = report.summarize(report.records_frame(robustness_store.records()), "dnrsfm")
    first = mean[mean["method"] == "tomasi_kanade"].iloc[0]
    assert report.format_cell(first["mean"], first["std"], first["n"]) in page


def test_report_options_select_parts_runs_and_frames(robustness_store, tmp_path, capsys):
    out = tmp_path / "only"
    status = main(["report", "--store", str(robustness_store.root), "--out", str(out), "--only",
                   "reconstructions", "--show", "tomasi_kanade@synthetic/articulated", "--frames", "0,5"])
    assert status == 0
    assert [p.name for p in out.rglob("*") if p.is_file()] == \
        ["reconstruction_tomasi_kanade_synthetic_articulated.png"]
    status = main(["report", "--store", str(robustness_store.root), "--out", str(out), "--show", "nope@synthetic"])
    err = capsys.readouterr().err
    assert status == 2 and "--show 'nope@synthetic'" in err and "tomasi_kanade@synthetic/articulated" in err
    status = main(["report", "--store", str(robustness_store.root), "--out", str(out), "--only", "bogus"])
    assert status == 2 and "unknown part" in capsys.readouterr().err


def test_method_lists_keep_commas_inside_a_labels_brackets():
    from nrsfm_bench.commands.report import label_list

    assert label_list("bmm, pr_rrn [profile=paper, restarts=4],rrn") == (
        "bmm", "pr_rrn [profile=paper, restarts=4]", "rrn")
    assert label_list("classic/drink [cameras=random]") == ("classic/drink [cameras=random]",)
    assert label_list(None) == () and label_list(" , ") == ()


def test_a_configuration_run_again_under_another_key_counts_once_the_newest(robustness_store):
    import copy

    records = robustness_store.records()
    original = records[0]
    again = copy.deepcopy(original)
    again["key"] = "0" * 16                                    # e.g. the method gained a parameter at its default
    again["provenance"]["date"] = "2999-01-01T00:00:00+00:00"
    for block in again["evaluation"].values():
        for metrics in block["presets"].values():
            metrics["e3d"] = 123.0
    kept, dropped = report.latest_per_configuration([original, *records[1:], again])
    assert dropped == 1 and len(kept) == len(records)
    assert again in kept and original not in kept
    kept, dropped = report.latest_per_configuration(records)
    assert dropped == 0 and kept == records
