"""Parameters of components, `--param key=value` parsing, and specs that rebuild a component from a record.

A component (method or dataset) is configured only through its constructor's keyword arguments, in the
scikit-learn manner. A `ComponentSpec` is the registry name plus those arguments; it round-trips through JSON
and carries a type tag (`module:Class`) so a stored record says exactly which class produced it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
from typing import Any, Iterable, Mapping

from nrsfm_bench.errors import UsageError


class Configurable:
    """Mixin: `get_params()` reads back the constructor arguments stored as attributes of the same name."""

    registry_name: str = ""
    #: a tiny configuration for CI (overrides merged over the defaults by `--param` and tests)
    test_parameters: Mapping[str, Any] = {}

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        sig = inspect.signature(cls.__init__)
        return {name: sig.parameters[name].default for name in cls.param_names()
                if sig.parameters[name].default is not inspect.Parameter.empty}

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, read back from the attributes `__init__` stored them in."""
        return {name: getattr(self, name) for name in self.param_names()}

    @classmethod
    def type_tag(cls) -> str:
        return f"{cls.__module__}:{cls.__qualname__}"


@dataclasses.dataclass(frozen=True)
class ComponentSpec:
    """A registered component and its parameters: enough to rebuild it.

    Attributes:
        kind: "method" or "dataset".
        name: the registry name, variant included (e.g. "classic/drink").
        params: constructor arguments given explicitly (variant parameters included after `build`).
        type: the `module:Class` tag of the class that was built (filled by `build`).
    """

    kind: str
    name: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    type: str = ""

    def build(self):
        """Instantiate the component, checking parameter names against its constructor."""
        from nrsfm_bench.registry import DATASETS, METHODS

        registry = METHODS if self.kind == "method" else DATASETS
        entry, variant_params = registry.resolve(self.name)
        return build_component(entry.cls, {**variant_params, **self.params}, f"{self.kind} '{self.name}'")

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, kind: str, data: Mapping[str, Any]) -> "ComponentSpec":
        return cls(kind, data["name"], dict(data.get("params", {})), data.get("type", ""))


def build_component(cls: type, params: Mapping[str, Any], label: str):
    """`cls(**params)`, with a one-line usage error for unknown or ill-typed parameters."""
    valid = cls.param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise UsageError(f"{label} has no parameter {', '.join(unknown)}; its parameters are: {', '.join(valid)}")
    defaults = cls.param_defaults()
    params = dict(params)
    for name, value in params.items():
        expected = type(defaults.get(name))
        if expected in (bool, int, float, str) and not _fits(value, expected):
            raise UsageError(f"{label}: parameter {name} expects {expected.__name__}, got {value!r}")
        if expected is float:
            params[name] = float(value)  # 0 and 0.0 must hash alike
    try:
        return cls(**params)
    except (TypeError, ValueError) as error:
        raise UsageError(f"{label}: {error}") from None


def _fits(value: Any, expected: type) -> bool:
    """Whether a parameter value suits a default of type `expected` (an int is a valid float, a bool is not)."""
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def parse_value(text: str) -> Any:
    """A `--param` value: JSON when it parses (numbers, true/false, null, lists), else the raw string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_params(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Split `["method.K=12", "dataset.frames=2000"]` into `{"method": {"K": 12}, "dataset": {"frames": 2000}}`."""
    parsed: dict[str, dict[str, Any]] = {"method": {}, "dataset": {}}
    for item in items:
        key, sep, value = item.partition("=")
        target, dot, name = key.partition(".")
        if not sep or not dot or target not in parsed or not name.isidentifier():
            raise UsageError(f"--param {item!r} is malformed; expected method.<name>=<value> or "
                             "dataset.<name>=<value>")
        parsed[target][name] = parse_value(value)
    return parsed


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no whitespace: the text a configuration hash is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(data: Any, length: int = 16) -> str:
    """A short, stable hash of a JSON-able configuration."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()[:length]
