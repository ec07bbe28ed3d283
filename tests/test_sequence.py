"""Sequence validation: every malformed field gives one clear InputError naming it."""
import numpy as np
import pytest

from nrsfm_bench import Sequence
from nrsfm_bench.errors import InputError


def make(F=5, P=6, **kw):
    rng = np.random.default_rng(0)
    return Sequence(W=rng.standard_normal((F, P, 2)), name="t", **kw)


def test_valid_sequence_has_defaults():
    seq = make()
    assert (seq.F, seq.P) == (5, 6)
    assert seq.visible.all() and seq.visible.dtype == bool
    assert not seq.has_ground_truth and not seq.has_missing


@pytest.mark.parametrize("kwargs, field", [
    (dict(W=np.zeros((5, 6, 3))), "W"),
    (dict(W=np.zeros((5, 12))), "W"),
    (dict(W=np.zeros((1, 6, 2))), "W"),
    (dict(W=np.zeros((5, 3, 2))), "W"),
    (dict(W=np.full((5, 6, 2), np.nan)), "W"),
    (dict(W=np.zeros((5, 6, 2)), visible=np.ones((5, 5), bool)), "visible"),
    (dict(W=np.zeros((5, 6, 2)), visible=np.full((5, 6), 2)), "visible"),
    (dict(W=np.zeros((5, 6, 2)), S_gt=np.zeros((5, 6, 2))), "S_gt"),
    (dict(W=np.zeros((5, 6, 2)), S_gt=np.zeros((4, 6, 3))), "S_gt"),
    (dict(W=np.zeros((5, 6, 2)), S_gt=np.full((5, 6, 3), np.inf)), "S_gt"),
    (dict(W=np.zeros((5, 6, 2)), M_gt=np.zeros((5, 3, 3))), "M_gt"),
    (dict(W=np.zeros((5, 6, 2)), split=np.array(["train"] * 4 + ["val"])), "split"),
    (dict(W=np.zeros((5, 6, 2)), point_names=("a", "b")), "point_names"),
    (dict(W=np.zeros((5, 6, 2)), edges=np.array([[0, 6]])), "edges"),
    (dict(W=[["x"]]), "W"),
])
def test_invalid_fields_raise_one_line_error_naming_the_field(kwargs, field):
    with pytest.raises(InputError) as info:
        Sequence(name="bad", **kwargs)
    message = str(info.value)
    assert f"field {field}" in message and "'bad'" in message and "\n" not in message


def test_hidden_points_may_be_nan_and_are_zeroed():
    W = np.ones((3, 4, 2))
    W[0, 1] = np.nan
    visible = np.ones((3, 4), bool)
    visible[0, 1] = False
    seq = Sequence(W=W, visible=visible)
    assert seq.W[0, 1].tolist() == [0, 0] and seq.has_missing


def test_arrays_are_read_only_and_observations_drop_ground_truth():
    seq = make(S_gt=np.zeros((5, 6, 3)), M_gt=np.zeros((5, 2, 3)))
    with pytest.raises(ValueError):
        seq.W[0, 0, 0] = 1
    obs = seq.observations()
    assert obs.S_gt is None and obs.M_gt is None and np.array_equal(obs.W, seq.W)


def test_subset_and_split_indices():
    seq = make(split=np.array(["train", "train", "train", "test", "test"]), S_gt=np.zeros((5, 6, 3)))
    assert seq.split_indices("test").tolist() == [3, 4]
    sub = seq.subset(seq.split_indices("train"))
    assert sub.F == 3 and sub.S_gt.shape == (3, 6, 3) and (sub.split == "train").all()
    with pytest.raises(InputError):
        make().split_indices("test")
