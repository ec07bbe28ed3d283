"""PR-RRN training through the method API: determinism, checkpoints, resume, errors, lazy torch import."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nrsfm_bench.datasets.synthetic import Synthetic  # noqa: E402
from nrsfm_bench.errors import InputError  # noqa: E402
from nrsfm_bench.method import RunContext  # noqa: E402
from nrsfm_bench.methods.pr_rrn import PRRRN, RRN, VanillaRRN, checkpoint, training  # noqa: E402
from nrsfm_bench.registry import METHODS  # noqa: E402

TINY = dict(epochs=4, batch_size=16, memory_size=32, alternate_every=1)


@pytest.fixture(scope="module")
def seq():
    return Synthetic(frames=60, missing=0.1, seed=3).load().observations()


def _fit(seq, method=PRRRN, context=RunContext(), **params):
    model = method(**{**TINY, **params})
    model.context = context
    return model.fit(seq)


def _losses(history):
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


def test_every_variant_is_registered_inductive_with_missing_data():
    names = {"pr_rrn", "rrn", "rrn_contrast", "rrn_consist", "vanilla_rrn"}
    assert names <= set(METHODS.names())
    for name in names:
        caps = METHODS.resolve(name)[0].cls.capabilities
        assert caps.inductive and caps.missing_data


def test_listing_methods_does_not_import_torch():
    code = ("import sys; from nrsfm_bench.registry import METHODS; METHODS.names(); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_fit_reconstruct_shapes_info_and_determinism(seq):
    a = _fit(seq)
    result = a.reconstruct(seq)
    assert result.S.shape == (seq.F, seq.P, 3) and result.M.shape == (seq.F, 2, 3)
    json.dumps(result.info)                                      # JSON-able
    assert len(result.info["history"]) == 4 and result.info["config"]["recursions"] == 3
    phases = [("contrast" in r, "consist" in r) for r in result.info["history"]]
    assert phases == [(True, False), (False, True), (True, False), (False, True)]   # alternated
    again = _fit(seq).reconstruct(seq)
    assert np.array_equal(result.S, again.S) and np.array_equal(result.M, again.M)
    other = _fit(seq, seed=1).reconstruct(seq)
    assert not np.allclose(result.S, other.S)


def test_variants_use_their_losses(seq):
    history = _fit(seq, RRN).history_
    assert all("contrast" not in r and "consist" not in r for r in history)
    assert _fit(seq, VanillaRRN).model_.info["parameters"] == _fit(seq, RRN).model_.info["parameters"]


def test_training_reduces_reprojection():
    rigid = Synthetic(frames=120, rigid=True, seed=0).load().observations()
    history = _fit(rigid, RRN, epochs=15).history_
    assert history[-1]["reproj"] < 0.5 * history[0]["reproj"]


def test_on_the_fly_msr_gives_the_table_labels(seq, monkeypatch):
    with_table = _fit(seq).history_
    monkeypatch.setattr(training, "MSR_TABLE_MAX_FRAMES", 0)
    without = _fit(seq).history_
    assert [r.get("contrast_frames") for r in with_table] == [r.get("contrast_frames") for r in without]


def test_resume_after_interrupt_equals_uninterrupted_run(seq, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "CHECKPOINT_SECONDS", 0.0)
    full = _fit(seq, context=RunContext(workdir=tmp_path / "full"))

    real_train = training.train

    def interrupted(*args, **kwargs):
        def stop(epochs_done):
            if epochs_done == 2:
                raise KeyboardInterrupt
        return real_train(*args, **kwargs, on_epoch_end=stop)

    monkeypatch.setattr(training, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _fit(seq, context=RunContext(workdir=tmp_path / "cut"))
    monkeypatch.setattr(training, "train", real_train)
    saved = checkpoint.load(tmp_path / "cut" / checkpoint.FILENAME)
    assert saved["epoch"] == 2

    resumed = _fit(seq, context=RunContext(workdir=tmp_path / "cut", resume=True))
    assert resumed.model_.info["resumed_from_epoch"] == 2 and resumed.model_.info["epochs_run"] == 2
    assert _losses(resumed.history_) == _losses(full.history_)
    a, b = full.reconstruct(seq), resumed.reconstruct(seq)
    assert np.array_equal(a.S, b.S) and np.array_equal(a.M, b.M)


def test_resume_refuses_a_checkpoint_of_another_configuration(seq, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "CHECKPOINT_SECONDS", 0.0)
    _fit(seq, context=RunContext(workdir=tmp_path))
    with pytest.raises(InputError, match="another configuration"):
        _fit(seq, context=RunContext(workdir=tmp_path, resume=True), lr=5e-4)


def test_checkpoint_loading_never_runs_pickled_code(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / checkpoint.FILENAME
    torch.save({"format": checkpoint.FORMAT, "payload": Evil()}, path)
    with pytest.raises(InputError, match="not a readable PR-RRN checkpoint"):
        checkpoint.load(path)
    assert not marker.exists()
    path.write_bytes(b"garbage")
    with pytest.raises(InputError, match=str(path.name)):
        checkpoint.load(path)


def test_clear_errors(seq):
    with pytest.raises(InputError, match="fit"):
        PRRRN().reconstruct(seq)
    fitted = _fit(seq, epochs=1)
    other = Synthetic(frames=10, points=12).load().observations()
    with pytest.raises(InputError, match="P = 12"):
        fitted.reconstruct(other)
    with pytest.raises(ValueError, match="profile"):
        PRRRN(profile="fast")
    with pytest.raises(ValueError, match="tau"):
        PRRRN(tau=0.1, xi=0.05)


def test_input_scale_modes():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((50, 20, 2)) * 7.0
    visible = np.ones((50, 20), bool)
    centred = W - W.mean(axis=1, keepdims=True)
    frame = training.input_scale(W, visible, "frame")
    assert np.sqrt(np.mean(((centred / frame) ** 2).sum(axis=(1, 2)))) == pytest.approx(1.0)
    assert np.sqrt(np.mean((centred / training.input_scale(W, visible, "rms")) ** 2)) == pytest.approx(1.0)
    assert training.input_scale(W, visible, "none") == 1.0
    assert training.input_scale(np.zeros_like(W), visible, "frame") == 1.0


def test_unknown_normalize_is_refused():
    with pytest.raises(ValueError, match="normalize must be one of"):
        PRRRN(normalize="unit").config_for("synthetic")


def test_restarts_keep_the_candidate_with_the_lowest_screening_loss(seq):
    model = _fit(seq, restarts=3, restart_epochs=2)
    restarts = model.model_.info["restarts"]
    losses = [c["loss"] for c in restarts["candidates"]]
    assert len(losses) == 3 and restarts["chosen"] == int(np.argmin(losses))
    assert restarts["candidates"][0]["seed"] == 0                      # the first candidate is the plain seed
    assert len({c["seed"] for c in restarts["candidates"]}) == 3
    assert [r["epoch"] for r in model.history_] == [1, 2, 3, 4]        # the chosen one's history, screening included
    assert model.model_.info["epochs_run"] == 4 + 2 * 2
    chosen = model.history_[1]["total"]
    assert chosen == pytest.approx(min(losses))
    again = _fit(seq, restarts=3, restart_epochs=2)
    assert np.array_equal(model.reconstruct(seq).S, again.reconstruct(seq).S)


def test_a_single_restart_is_the_plain_run(seq):
    plain, single = _fit(seq), _fit(seq, restarts=1, restart_epochs=3)
    assert _losses(plain.history_) == _losses(single.history_)
    assert "restarts" not in single.model_.info


def test_resume_after_the_screening_continues_the_chosen_candidate(seq, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "CHECKPOINT_SECONDS", 0.0)
    params = dict(restarts=2, restart_epochs=2)
    full = _fit(seq, context=RunContext(workdir=tmp_path / "full"), **params)

    real_train = training.train
    calls = []

    def interrupted(*args, **kwargs):
        def stop(epochs_done):
            calls.append(epochs_done)
            if len(calls) == 5:                        # 2 + 2 screening epochs, then the chosen one's third
                raise KeyboardInterrupt
        return real_train(*args, **kwargs, on_epoch_end=stop)

    monkeypatch.setattr(training, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _fit(seq, context=RunContext(workdir=tmp_path / "cut"), **params)
    monkeypatch.setattr(training, "train", real_train)
    assert checkpoint.load(tmp_path / "cut" / checkpoint.FILENAME)["epoch"] == 3

    resumed = _fit(seq, context=RunContext(workdir=tmp_path / "cut", resume=True), **params)
    assert resumed.model_.info["resumed_from_epoch"] == 3
    assert resumed.model_.info["restarts"] == full.model_.info["restarts"]
    assert _losses(resumed.history_) == _losses(full.history_)
    assert np.array_equal(full.reconstruct(seq).S, resumed.reconstruct(seq).S)


@pytest.mark.parametrize("bad", [dict(restarts=0), dict(restart_epochs=0)])
def test_restart_settings_are_validated(bad):
    with pytest.raises(ValueError, match="restart"):
        PRRRN(**bad)
