"""Finding backends: stevedore over the ``annotate.backends`` entry-point group.

The core never imports a backend by name. A table of known backends only turns "not installed"
into an install hint, the way fsspec's ``known_implementations`` does.
"""

from __future__ import annotations

import importlib.metadata as md
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from stevedore import DriverManager, ExtensionManager
from stevedore.exception import NoMatches

from annotate_core.backend import Backend
from annotate_core.errors import BackendLoadError, BackendNotInstalled

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "annotate.backends"

#: name -> (distribution, what it is); used for install hints only
KNOWN_BACKENDS: dict[str, tuple[str, str]] = {
    "local": ("annotate-local", "embedded store with a simulated workforce"),
    "toloka": ("annotate-toloka", "Toloka crowdsourcing pools"),
    "dataloop": ("annotate-dataloop", "Dataloop tasks, QA and pipelines"),
    "labelstudio": ("annotate-labelstudio", "self-hosted Label Studio projects"),
}

# Backends registered in-process (tests, notebooks); they shadow installed ones of the same name.
_runtime: dict[str, type[Backend]] = {}


@dataclass(frozen=True)
class BackendInfo:
    name: str
    distribution: str | None
    version: str | None
    capabilities: list[str] = field(default_factory=list)
    target: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "capabilities": self.capabilities,
        }
        if self.error:
            out["error"] = self.error
        return out


def register_backend(name: str, cls: type[Backend]) -> None:
    """Make a backend class available under ``name`` without installing a distribution."""
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"{cls!r} is not a subclass of annotate_core.Backend")
    _runtime[name] = cls


def unregister_backend(name: str) -> None:
    _runtime.pop(name, None)


def install_hint(name: str) -> str:
    if name in KNOWN_BACKENDS:
        return f"pip install {KNOWN_BACKENDS[name][0]}"
    return f"install the distribution that provides the {ENTRY_POINT_GROUP!r} entry point {name!r}"


@lru_cache(maxsize=1)
def _module_distributions() -> Mapping[str, list[str]]:
    return md.packages_distributions()


def _distribution_of(target: str, ep: md.EntryPoint | None = None) -> tuple[str | None, str | None]:
    """(distribution, version) that installed ``target``: from its entry point's own metadata when it
    has one (cheap), else by the top-level module (``packages_distributions`` reads every installed
    distribution's file list: tens of milliseconds)."""
    dist_meta = ep.dist if ep is not None else None
    if dist_meta is not None:
        return dist_meta.name, dist_meta.version
    top = target.split(":")[0].split(".")[0]
    dists = _module_distributions().get(top) or []
    if not dists:
        return None, None
    dist = dists[0]
    try:
        return dist, md.version(dist)
    except md.PackageNotFoundError:  # pragma: no cover - metadata vanished mid-run
        return dist, None


def _manager() -> tuple[ExtensionManager[object], list[tuple[str, BaseException]]]:
    """Every backend entry point loaded, and (name, error) for those that failed to import.

    A plugin is typed ``object`` until checked: an entry point may name anything.
    """
    failures: list[tuple[str, BaseException]] = []

    def on_failure(_mgr: ExtensionManager[object], ep: md.EntryPoint, err: BaseException) -> None:
        failures.append((ep.name, err))

    mgr: ExtensionManager[object] = ExtensionManager(
        namespace=ENTRY_POINT_GROUP,
        invoke_on_load=False,
        on_load_failure_callback=on_failure,
    )
    return mgr, failures


def _entry_points() -> dict[str, md.EntryPoint]:
    return {ep.name: ep for ep in md.entry_points(group=ENTRY_POINT_GROUP)}


def list_backends() -> list[BackendInfo]:
    """Every installed (or runtime-registered) backend, with distribution, version and capabilities."""
    infos: dict[str, BackendInfo] = {}
    mgr, failures = _manager()
    eps = _entry_points()
    for ext in mgr:
        cls = ext.plugin
        target = ext.entry_point_target
        dist, version = _distribution_of(target, eps.get(ext.name))
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            infos[ext.name] = BackendInfo(ext.name, dist, version, [], target,
                                          error=f"{target} is not an annotate_core.Backend subclass")
            continue
        infos[ext.name] = BackendInfo(ext.name, dist, version, sorted(c.value for c in cls.capabilities), target)
    for name, err in failures:
        failed_target = eps[name].value if name in eps else None
        dist, version = _distribution_of(failed_target, eps.get(name)) if failed_target else (None, None)
        infos[name] = BackendInfo(name, dist, version, [], failed_target, error=f"failed to load: {err}")
    for name, cls in _runtime.items():
        infos[name] = BackendInfo(name, None, None, sorted(c.value for c in cls.capabilities),
                                  f"{cls.__module__}:{cls.__qualname__}")
    return sorted(infos.values(), key=lambda i: i.name)


def get_backend_class(name: str) -> type[Backend]:
    """The backend class registered as ``name``; a clear error with an install hint otherwise."""
    if name in _runtime:
        return _runtime[name]

    def on_failure(_mgr: ExtensionManager[object], ep: md.EntryPoint, err: BaseException) -> None:
        raise BackendLoadError(f"backend {name!r} ({ep.value}) failed to import: {err}") from err

    entry_points = _entry_points()
    try:
        if name not in entry_points:  # asked first: stevedore would log a WARNING before our clear error
            raise NoMatches(name)
        manager: DriverManager[object] = DriverManager(
            namespace=ENTRY_POINT_GROUP, name=name, invoke_on_load=False, on_load_failure_callback=on_failure
        )
        cls = manager.driver
    except NoMatches:
        installed = sorted(set(entry_points) | set(_runtime))
        raise BackendNotInstalled(
            f"backend {name!r} is not installed: {install_hint(name)}"
            + (f" (installed: {', '.join(installed)})" if installed else " (no backends are installed)")
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendLoadError(f"backend {name!r} is not an annotate_core.Backend subclass: {cls!r}")
    return cls
