"""The model catalog: ``models/catalog.toml`` plus the user's imported models.

A :class:`ModelInfo` says what a model is (kind, languages, size, sha256) and where its
bytes come from (:class:`Source`). Nothing here touches the network or imports a model
package; locating files is done with ``importlib.util.find_spec`` which, for a top-level
package, reads no code.
"""
from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from app.core.errors import KithError
from app.core.paths import Paths, resource_path

Kind = Literal["whisper", "llm"]
SourceType = Literal["pypi", "join", "url", "local"]

USER_CATALOG = "user-catalog.toml"  # in the model cache: models added with `kith models import`


@dataclass(frozen=True)
class RemoteFile:
    path: str  # file name inside the model's folder
    url: str
    sha256: str = ""
    size: int = 0


@dataclass(frozen=True)
class Source:
    type: SourceType
    main: str  # the file whose sha256 the catalog gives (model.bin or the .gguf)
    packages: tuple[str, ...] = ()  # pip requirement strings that provide the files
    dir: str = ""  # pypi: "import_name/sub/dir" holding the files, used in place
    parts: tuple[str, ...] = ()  # join: "import_name/rel/path" parts, in order
    extra: tuple[str, ...] = ()  # join: small files copied next to the joined one
    files: tuple[RemoteFile, ...] = ()  # url: files to download
    path: str = ""  # local: absolute path of a folder (whisper) or a .gguf (llm)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: Kind
    source: Source
    languages: tuple[str, ...] = ()
    size: int = 0
    size_exact: bool = True
    sha256: str = ""
    license: str = ""
    description: str = ""
    default: bool = False
    user: bool = False  # came from the user catalog (kith models import)

    @property
    def multilingual(self) -> bool:
        return "multilingual" in self.languages or len(self.languages) > 1

    @property
    def install_command(self) -> str:
        return f"kith models install {self.name}"


@dataclass
class Catalog:
    models: dict[str, ModelInfo] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.models.values())

    def __contains__(self, name: object) -> bool:
        return name in self.models

    def get(self, name: str) -> ModelInfo:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "(none)"
            raise KithError(f"unknown model {name!r}", hint=f"known models: {known}; see `kith models list`") from None

    def of_kind(self, kind: Kind) -> list[ModelInfo]:
        return [m for m in self.models.values() if m.kind == kind]

    def default(self, kind: Kind) -> ModelInfo:
        for m in self.of_kind(kind):
            if m.default:
                return m
        raise KithError(f"the catalog has no default {kind} model")


def _model_from_dict(d: dict, origin: str, user: bool = False) -> ModelInfo:
    try:
        src = d["source"]
        files = tuple(
            RemoteFile(path=f["path"], url=f["url"], sha256=f.get("sha256", ""), size=int(f.get("size", 0)))
            for f in src.get("files", ())
        )
        source = Source(
            type=src["type"],
            main=src.get("main", ""),
            packages=tuple(src.get("packages", ())),
            dir=src.get("dir", ""),
            parts=tuple(src.get("parts", ())),
            extra=tuple(src.get("extra", ())),
            files=files,
            path=src.get("path", ""),
        )
        if source.type not in ("pypi", "join", "url", "local"):
            raise ValueError(f"unknown source type {source.type!r}")
        kind = d["kind"]
        if kind not in ("whisper", "llm"):
            raise ValueError(f"unknown kind {kind!r}")
        return ModelInfo(
            name=d["name"],
            kind=kind,
            source=source,
            languages=tuple(d.get("languages", ())),
            size=int(d.get("size", 0)),
            size_exact=bool(d.get("size_exact", True)),
            sha256=str(d.get("sha256", "")).lower(),
            license=d.get("license", ""),
            description=d.get("description", ""),
            default=bool(d.get("default", False)),
            user=user,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise KithError(f"{origin}: bad model entry {d.get('name', '?')!r}: {e}") from e


def _read(path: Path, user: bool) -> list[ModelInfo]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise KithError(f"{path}: cannot read the model catalog ({e})") from e
    return [_model_from_dict(d, str(path), user) for d in data.get("model", [])]


def default_catalog_file() -> Path:
    return resource_path("models", "catalog.toml")


def load_catalog(paths: Paths | None = None, file: Path | None = None) -> Catalog:
    """The bundled catalog, plus (when ``paths`` is given) the user's imported models."""
    cat = Catalog()
    for m in _read(file or default_catalog_file(), user=False):
        cat.models[m.name] = m
    if paths is not None:
        user_file = paths.models / USER_CATALOG
        if user_file.exists():
            for m in _read(user_file, user=True):
                cat.models.setdefault(m.name, m)  # a user entry never shadows a bundled one
    return cat


# -- locating files inside installed packages (never importing them) --------------------
def package_dir(import_name: str) -> Path | None:
    """Directory of an installed top-level package, or None. Does not execute it."""
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        return Path(loc)
    return None


def package_file(ref: str) -> Path | None:
    """``"pkg/rel/path"`` → absolute path if the package is installed and the file exists."""
    import_name, _, rel = ref.partition("/")
    base = package_dir(import_name)
    if base is None:
        return None
    p = base / rel if rel else base
    return p if p.exists() else None
