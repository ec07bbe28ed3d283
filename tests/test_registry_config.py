"""Registries (decorator registration, duplicates, variants, suggestions, lazy imports) and parameter parsing."""
import subprocess
import sys

import pytest

from nrsfm_bench.config import ComponentSpec, Configurable, build_component, config_hash, parse_params
from nrsfm_bench.errors import UnknownNameError, UsageError
from nrsfm_bench.registry import DATASETS, METHODS, Registry


class Thing(Configurable):
    """A thing for tests."""

    def __init__(self, *, size: int = 3, rate: float = 0.5, flag: bool = False, variant: str = "a", seed: int = 0):
        self.size, self.rate, self.flag, self.variant, self.seed = size, rate, flag, variant, seed


def test_register_resolve_and_duplicates():
    registry = Registry("thing", ())
    registry.register("thing", variant_param="variant", variants=("a", "b"))(Thing)
    assert registry.names() == ["thing", "thing/a", "thing/b"]
    assert registry.resolve("thing/b") == (registry.entries()[0], {"variant": "b"})
    assert registry.entries()[0].description == "A thing for tests."

    class Other(Thing):
        pass

    with pytest.raises(ValueError, match="already registered"):
        registry.register("thing")(Other)
    with pytest.raises(UnknownNameError, match="did you mean thing/b"):
        registry.resolve("thing/c")
    with pytest.raises(ValueError, match="must not contain"):
        registry.register("a/b")


def test_unknown_names_suggest_the_closest_valid_ones():
    with pytest.raises(UnknownNameError) as info:
        DATASETS.resolve("synthetik")
    assert "synthetic" in str(info.value) and "\n" not in str(info.value)


def test_build_component_checks_names_and_types():
    assert build_component(Thing, {"size": 4}, "thing").get_params()["size"] == 4
    assert build_component(Thing, {"rate": 1}, "thing").rate == 1.0 and isinstance(
        build_component(Thing, {"rate": 1}, "thing").rate, float)
    with pytest.raises(UsageError, match="no parameter sise"):
        build_component(Thing, {"sise": 4}, "thing")
    with pytest.raises(UsageError, match="expects int"):
        build_component(Thing, {"size": "big"}, "thing")
    with pytest.raises(UsageError, match="expects bool"):
        build_component(Thing, {"flag": 1}, "thing")


def test_parse_params_and_hash_stability():
    parsed = parse_params(["method.K=12", "dataset.rigid=true", "dataset.name=drink", "method.lr=1e-3"])
    assert parsed == {"method": {"K": 12, "lr": 1e-3}, "dataset": {"rigid": True, "name": "drink"}}
    with pytest.raises(UsageError):
        parse_params(["K=12"])
    with pytest.raises(UsageError):
        parse_params(["model.K=12"])
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_component_spec_round_trips_and_rebuilds():
    spec = ComponentSpec("dataset", "synthetic/articulated", {"frames": 10})
    dataset = spec.build()
    assert dataset.kind == "articulated" and dataset.frames == 10
    again = ComponentSpec.from_dict("dataset", spec.to_dict()).build()
    assert again.get_params() == dataset.get_params()


def test_listing_names_never_imports_torch():
    code = ("import sys; from nrsfm_bench.registry import METHODS, DATASETS; METHODS.names(); DATASETS.names(); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, "listing the registries imported torch"
    assert METHODS.names() is not None
