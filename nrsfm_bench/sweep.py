"""Running a sweep: plan the runs, skip those already stored, execute the rest on joblib or dask.distributed.

Each run is one `runner.run` call; its record is written atomically, so a sweep killed at any moment leaves
complete records only, and running it again computes just the runs whose records are missing. With joblib the
workers write into the store themselves; with dask the workers compute in a private temporary store and send
the record and arrays back, and this process writes them: the cluster needs no shared filesystem (only the
data, under the same data root on every worker) and both paths write the same records.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import socket
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Iterable, Iterator, TextIO

from nrsfm_bench.errors import NrsfmError, UsageError
from nrsfm_bench.runner import PreparedRun, RunConfig, prepare
from nrsfm_bench.store import ResultsStore
from nrsfm_bench.sweep_spec import SweepSpec

BACKENDS = ("joblib", "dask")


@dataclasses.dataclass(frozen=True)
class Task:
    """One planned run: its configuration, key and a short label for progress lines."""

    config: RunConfig
    key: str
    label: str


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a sweep will do.

    Attributes:
        tasks: every applicable run, in the specification's order.
        pending: the runs to compute (not in the store, or all of them with force).
        not_applicable: (label, reason) of runs the specification names but no method can do
            (a training fraction for a per-sequence method).
    """

    tasks: tuple[Task, ...]
    pending: tuple[Task, ...]
    not_applicable: tuple[tuple[str, str], ...]

    @property
    def stored(self) -> int:
        return len(self.tasks) - len(self.pending)


@dataclasses.dataclass
class Outcome:
    """The result of one task, as sent back by a worker.

    Attributes:
        key, label: the task's.
        status: "ok", "skipped" or "failed".
        seconds: wall time of the run in the worker.
        summary: e3D (dnrsfm) of the run's main group, or the skip reason / error message.
        record, arrays: the record and reconstruction arrays, when the worker computed in a private store.
        error_type: the exception class name of a failed run.
    """

    key: str
    label: str
    status: str
    seconds: float
    summary: str
    record: dict | None = None
    arrays: dict | None = None
    error_type: str = ""


def import_modules(modules: Iterable[str]) -> None:
    """Import the modules that register a user's own components (UsageError when one is missing)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise UsageError(f"cannot import module '{module}' named in the sweep's imports ({error})") from None


def task_label(config: RunConfig) -> str:
    level = config.perturbation.label()
    return f"{config.method} · {config.dataset} · seed {config.seed}" + (f" · {level}" if level else "")


def make_plan(spec: SweepSpec, store: ResultsStore, force: bool = False) -> Plan:
    """Build every run of `spec` (unknown names and parameters fail here, before anything runs)."""
    import_modules(spec.imports)
    return plan_configs(spec.configs(), store, force)


def plan_configs(configs: Iterable[RunConfig], store: ResultsStore, force: bool = False) -> Plan:
    """Build every run of `configs`, drop those no method can do, and find those the store already has."""
    tasks, not_applicable = [], []
    for config in configs:
        prepared: PreparedRun = prepare(config)
        if config.perturbation.train_fraction != 1 and not prepared.method.capabilities.inductive:
            not_applicable.append((task_label(config), "per-sequence method: a training fraction does not apply"))
            continue
        tasks.append(Task(config, prepared.key, task_label(config)))
    unique = list({task.key: task for task in tasks}.values())
    pending = [t for t in unique if force or not store.has(t.key)]
    return Plan(tuple(unique), tuple(pending), tuple(not_applicable))


def _summary(record: dict) -> str:
    if record["status"] != "ok":
        return record.get("skip_reason", record["status"])
    block = record["evaluation"][record["split"]]
    e3d = block["presets"].get("dnrsfm", {}).get("e3d")
    return f"e3D {e3d:.4f}" if e3d is not None else f"reprojection {block['reprojection']:.4f}"


def run_task(config: RunConfig, store_root: str | None, data_root: str | None, imports: tuple[str, ...],
             force: bool, send_back: bool) -> Outcome:
    """Execute one run in a worker; every error becomes a `failed` outcome so that a sweep goes on.

    With `send_back`, the run is computed in a private temporary store and the outcome carries the record and
    arrays for the caller to store; otherwise it is written into `store_root` directly.
    """
    from nrsfm_bench.runner import run

    label, start = task_label(config), time.perf_counter()
    try:
        import_modules(imports)
        private = tempfile.TemporaryDirectory(prefix="nrsfm-sweep-") if send_back else nullcontext(store_root)
        with private as root:
            store = ResultsStore(root)
            record, _ = run(config, store, data_root=data_root, force=force, resume=True)
            arrays = store.load_arrays(record["key"]) if send_back else None
        return Outcome(record["key"], label, record["status"], time.perf_counter() - start, _summary(record),
                       record if send_back else None, arrays)
    except Exception as error:  # noqa: BLE001 - one failed run must not stop the sweep; it is reported
        message = str(error) if isinstance(error, NrsfmError) else f"{type(error).__name__}: {error}"
        return Outcome("", label, "failed", time.perf_counter() - start, message.splitlines()[0] if message else "",
                       error_type=type(error).__name__)


# ------------------------------------------------------------------------------------------------ progress
def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class Progress:
    """Prints one line per finished run: runs done / total, what it gave, runs left and time left."""

    def __init__(self, total: int, already: int, stream: TextIO | None = None):
        self.total, self.done, self.stream = total, already, stream or sys.stderr
        self.started, self.finished_here = time.perf_counter(), 0
        self.width = len(str(total))

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.finished_here += 1
        left = self.total - self.done
        elapsed = time.perf_counter() - self.started
        eta = f", ~{_duration(elapsed / self.finished_here * left)} left" if left else ""
        print(f"[{self.done:>{self.width}}/{self.total}] {outcome.status:<7} {outcome.label}: {outcome.summary} "
              f"({outcome.seconds:.1f} s) | {left} to go{eta}", file=self.stream, flush=True)


# ------------------------------------------------------------------------------------------------ backends
def _joblib_outcomes(tasks: list[Task], jobs: int, call: Callable[[RunConfig], Outcome]) -> Iterator[Outcome]:
    from joblib import Parallel, delayed

    if jobs == 1:  # in this process, in order
        yield from (call(task.config) for task in tasks)
        return
    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(call)(t.config) for t in tasks)


def _dask_outcomes(tasks: list[Task], scheduler: Any, call: Callable[[RunConfig], Outcome],
                   timeout: float) -> Iterator[Outcome]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise UsageError("--backend dask needs dask.distributed: pip install 'nrsfm-bench[dask]'") from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=f"{timeout}s") if own else scheduler
    except (OSError, TimeoutError) as error:
        raise UsageError(f"cannot reach the dask scheduler at {scheduler} ({error})") from None
    try:
        futures = [client.submit(call, task.config, key=f"nrsfm-run-{task.key}", pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
    finally:
        if own:
            client.close()


LOCK_NAME = ".sweep.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextmanager
def store_lock(store: ResultsStore) -> Iterator[None]:
    """Hold `<store>/.sweep.lock` while a sweep writes the store, so that two sweeps never compute (and
    checkpoint) the same runs at once. A lock left by a killed sweep on this machine is taken over.

    Raises:
        UsageError: naming the process that holds the lock.
    """
    path = store.root / LOCK_NAME
    store.root.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(path.read_text())
                pid, host = int(holder["pid"]), str(holder["host"])
            except (OSError, ValueError, KeyError, TypeError):
                holder, pid, host = {}, -1, ""
            if host == me["host"] and not _alive(pid):
                path.unlink(missing_ok=True)  # stale: its sweep was killed
                continue
            raise UsageError(f"{path}: another sweep (pid {pid} on {host or 'an unknown host'}, started "
                             f"{holder.get('started', '?')}) is writing this store; wait for it, use another "
                             "--store, or delete the lock file if no sweep is running") from None
        with os.fdopen(fd, "w") as handle:
            json.dump(me, handle)
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@dataclasses.dataclass
class SweepResult:
    """Counts of a finished sweep and the runs that failed (label, message, exception class name)."""

    total: int
    stored_before: int
    ok: int = 0
    skipped: int = 0
    failed: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.ok + self.skipped + len(self.failed)


def execute_plan(plan: Plan, store: ResultsStore, *, backend: str = "joblib", jobs: int = 1,
                 scheduler: Any = None, data_root: str | None = None, imports: tuple[str, ...] = (),
                 force: bool = False, stream: TextIO | None = None, connect_timeout: float = 20.0) -> SweepResult:
    """Compute the plan's pending runs and store their records.

    Args:
        backend: "joblib" (local processes; `jobs` workers) or "dask" (`scheduler`: an address such as
            "tcp://127.0.0.1:8786", or a `dask.distributed.Client`; `connect_timeout` seconds to reach it).
        data_root: the data root as seen by the workers (None: each worker's $NRSFM_BENCH_DATA or default).
    """
    if backend not in BACKENDS:
        raise UsageError(f"--backend {backend!r} is unknown; expected one of {', '.join(BACKENDS)}")
    if backend == "dask" and scheduler is None:
        raise UsageError("--backend dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    if jobs < 1:
        raise UsageError(f"-j {jobs}: expected at least 1 worker")
    send_back = backend == "dask"
    root = str(store.root.resolve())
    call = _TaskCall(root, data_root, tuple(imports), force, send_back)
    result = SweepResult(len(plan.tasks), plan.stored)
    progress = Progress(len(plan.tasks), plan.stored, stream)
    tasks = list(plan.pending)
    with store_lock(store):
        outcomes = _dask_outcomes(tasks, scheduler, call, connect_timeout) if send_back else \
            _joblib_outcomes(tasks, jobs, call)
        for outcome in outcomes:
            if outcome.record is not None:
                store.put(outcome.record, outcome.arrays)
            if outcome.status == "failed":
                result.failed.append((outcome.label, outcome.summary, outcome.error_type))
            elif outcome.status == "skipped":
                result.skipped += 1
            else:
                result.ok += 1
            progress.update(outcome)
    return result


@dataclasses.dataclass(frozen=True)
class _TaskCall:
    """`run_task` with the sweep-wide arguments bound (a picklable callable for joblib and dask)."""

    store_root: str
    data_root: str | None
    imports: tuple[str, ...]
    force: bool
    send_back: bool

    def __call__(self, config: RunConfig) -> Outcome:
        return run_task(config, self.store_root, self.data_root, self.imports, self.force, self.send_back)
