"""Model catalog and installation: which speech and language models Kith knows, where
their bytes come from (PyPI packages, joined parts, or downloads) and where they live.

    from app.catalog import resolve_whisper, resolve_llm
    folder = resolve_whisper(kith.paths, kith.settings.transcribe.model)
    gguf = resolve_llm(kith.paths, kith.settings.llm.model, progress=lambda d, t: ...)
"""
from app.catalog.catalog import Catalog, ModelInfo, load_catalog
from app.catalog.install import (
    ModelStatus,
    install_model,
    model_status,
    resolve_llm,
    resolve_whisper,
    verify_model,
)
from app.catalog.importing import import_model

__all__ = [
    "Catalog",
    "ModelInfo",
    "ModelStatus",
    "import_model",
    "install_model",
    "load_catalog",
    "model_status",
    "resolve_llm",
    "resolve_whisper",
    "verify_model",
]
