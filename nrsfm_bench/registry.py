"""Name → class registries for methods and datasets, filled by decorators and discovered lazily.

A registry imports its plugin packages (`nrsfm_bench.baselines`, `nrsfm_bench.methods`,
`nrsfm_bench.datasets`) only when a name is first looked up, and only their top-level modules and
subpackage `__init__`s. Plugin modules therefore keep heavy imports (torch) inside functions, so that
`nrsfm-bench run --method tomasi_kanade` never imports torch.

Names may carry a variant after a slash: `classic/drink` resolves to the entry `classic` with its variant
parameter (`sequence="drink"`).
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib
import pkgutil
from typing import Callable, Iterator

from nrsfm_bench.errors import UnknownNameError


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes:
        name: the registered name (without variant).
        cls: the class it builds.
        variant_param: the constructor parameter a `/variant` suffix sets, or None if the name takes none.
        variants: the known variants, listed by `nrsfm-bench methods|datasets`; empty means any value.
        variant_required: True when the bare name (no variant) is not valid on its own.
        open_variants: any variant value is accepted; `variants` only lists the usual ones (e.g. CMU subjects:
            the paper's nine are listed, every subject whose files are present loads).
    """

    name: str
    cls: type
    variant_param: str | None = None
    variants: tuple[str, ...] = ()
    variant_required: bool = False
    open_variants: bool = False

    @property
    def description(self) -> str:
        """First line of the class docstring."""
        return (self.cls.__doc__ or "").strip().splitlines()[0] if self.cls.__doc__ else ""

    def full_names(self) -> list[str]:
        """Every concrete name this entry answers to."""
        names = [] if self.variant_required else [self.name]
        return names + [f"{self.name}/{v}" for v in self.variants]


class Registry:
    """A registry of one kind of component ("method" or "dataset")."""

    def __init__(self, kind: str, packages: tuple[str, ...]):
        self.kind = kind
        self._packages = packages
        self._entries: dict[str, Entry] = {}
        self._discovered = False

    # -------------------------------------------------------------------------------------- registration
    def register(self, name: str, *, variant_param: str | None = None, variants: tuple[str, ...] = (),
                 variant_required: bool = False, open_variants: bool = False) -> Callable[[type], type]:
        """Class decorator that registers `cls` under `name`; a second registration of a name is an error."""
        if "/" in name:
            raise ValueError(f"{self.kind} name {name!r} must not contain '/' (variants are declared apart)")

        def decorate(cls: type) -> type:
            if name in self._entries and self._entries[name].cls is not cls:
                other = self._entries[name].cls
                raise ValueError(f"{self.kind} name {name!r} is already registered by "
                                 f"{other.__module__}.{other.__qualname__}")
            self._entries[name] = Entry(name, cls, variant_param, tuple(variants), variant_required, open_variants)
            cls.registry_name = name
            return cls

        return decorate

    # -------------------------------------------------------------------------------------- lookup
    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for package_name in self._packages:
            package = importlib.import_module(package_name)
            for module in pkgutil.iter_modules(package.__path__):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{package_name}.{module.name}")

    def entries(self) -> list[Entry]:
        """All entries, sorted by name."""
        self._discover()
        return [self._entries[n] for n in sorted(self._entries)]

    def names(self) -> list[str]:
        """Every concrete name (entries and their known variants)."""
        return [n for e in self.entries() for n in e.full_names()]

    def resolve(self, name: str) -> tuple[Entry, dict]:
        """The entry for `name` and the constructor parameters its variant sets.

        Raises:
            UnknownNameError: naming the input and the closest valid names.
        """
        self._discover()
        base, _, variant = name.partition("/")
        entry = self._entries.get(base)
        if entry is not None:
            if not variant and not entry.variant_required:
                return entry, {}
            if variant and entry.variant_param and (not entry.variants or entry.open_variants
                                                    or variant in entry.variants):
                return entry, {entry.variant_param: variant}
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else \
            f"see `nrsfm-bench {self.kind}s` for the {len(self.names())} valid names"
        return f"unknown {self.kind} '{name}'; {hint}"

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())


METHODS = Registry("method", ("nrsfm_bench.baselines", "nrsfm_bench.methods"))
DATASETS = Registry("dataset", ("nrsfm_bench.datasets",))

register_method = METHODS.register
register_dataset = DATASETS.register
