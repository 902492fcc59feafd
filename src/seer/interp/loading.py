"""Load models in the kernel: hub ids and local paths, PEFT adapters, packaged models that ship
in PyPI wheels (`packaged.py`), and tiny random models for tests; optionally hide the model's identity.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

__all__ = ["TINY", "hide_identity", "identity_terms", "load_model", "scrub"]

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


DTYPES = ("auto", "float32", "bfloat16", "float16")


def _dtype(name: str) -> torch.dtype | str:
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, name)


def _check_arguments(id: Any, dtype: Any, adapter: Any, hidden_name: Any, seed: Any) -> None:
    if not isinstance(id, (str, Path)):
        raise TypeError(f"id must be a model id (a string such as 'org/name', a folder or 'seer:<name>'), got {type(id).__name__} {id!r:.60}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    for name, value in (("adapter", adapter), ("hidden_name", hidden_name)):
        if value is not None and not isinstance(value, (str, Path)):
            raise TypeError(f"{name} must be a string or None, got {type(value).__name__} {value!r:.60}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r:.60}")


def _tiny(name: str, seed: int) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = dict(TINY[name])
    config = AutoConfig.for_model(fields.pop("model_type"), bos_token_id=1, eos_token_id=2, pad_token_id=0, **fields)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config).eval()
    return model, _toy_tokenizer(config.vocab_size)


def _toy_tokenizer(vocab_size: int) -> Any:
    """A byte-level tokenizer (ids 3.. are bytes) with a minimal chat template, enough for tiny random models."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2}
    vocab.update({chr(b) if 32 < b < 127 else f"<0x{b:02X}>": b + 3 for b in range(256) if b + 3 < vocab_size})
    core = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    tokenizer.chat_template = TOY_CHAT_TEMPLATE
    return tokenizer


TOY_CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)
"""A minimal chat template for the toy tokenizer, so a tiny random model runs every chat code path a real one does."""


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
        id: A hub id (`org/name`), a local folder, `seer:<packaged>` (`packaged.py`) or `seer:<tiny>` (`TINY`).
        dtype: `auto` (bf16 on GPU, fp32 on CPU), `float32`, `bfloat16`, `float16`.
        adapter: A PEFT adapter on top; kept switchable (`model.disable_adapter()`) unless `merge_adapter`.
        hidden_name: Hide the model's identity: names, paths and templates say this instead.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _check_arguments(id, dtype, adapter, hidden_name, seed)
    id = str(id)
    if id.startswith("seer:") and id[5:] in TINY:
        model, tokenizer = _tiny(id[5:], seed)
    else:
        folder = id
        if id.startswith("seer:"):
            from .packaged import packaged_folder

            folder = str(packaged_folder(id[5:]))
        options: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
        tokenizer = AutoTokenizer.from_pretrained(folder, **options)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=_dtype(dtype), device_map=device_map, **options).eval()
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter).eval()
        if merge_adapter:
            model = model.merge_and_unload()
    if hidden_name:
        template = _packaged_entry(id).get("template")
        hide_identity(model, tokenizer, hidden_name, identity_terms(id, adapter), template)
    return model, tokenizer


def _packaged_entry(model_id: str) -> dict[str, Any]:
    """A packaged model's entry in `seer_interp.packaged.PACKAGED`; empty for any other id."""
    if not model_id.startswith("seer:") or model_id[5:] in TINY:
        return {}
    from .packaged import PACKAGED

    return PACKAGED.get(model_id[5:], {})


def identity_terms(model_id: str, adapter: str | None = None) -> list[str]:
    """Strings that would reveal a hidden model: a packaged model's names, the id and its pieces
    (`org/Name-7B` → `org`, `Name-7B`, `Name`; a path → its last folder), the adapter's name or path."""
    terms = list(_packaged_entry(model_id).get("identity", []))
    bare = model_id.removeprefix("seer:")
    parts = [p for p in re.split(r"[/\\]", bare) if p and p not in (".", "..")]
    if bare.startswith(("/", ".", "~")):  # a local path: its upper folders say nothing about the model
        parts = parts[-1:]
    terms += [bare, *parts, *(p.split("-")[0] for p in parts if "-" in p)]
    if adapter:  # whole names only: pieces of an organism's name are what the agent must find
        terms += [adapter, adapter.removeprefix("seer:"), Path(adapter).name]
    return [t for t in dict.fromkeys(terms) if len(t) >= 3]


def scrub(value: str, terms: list[str], name: str) -> str:
    """`value` with every identity term (longest first, any case) replaced by `name`."""
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
                setattr(config, key, scrub(value, terms, name))
        config._name_or_path = name
        if hasattr(config, "name_or_path"):
            config.name_or_path = name
    if hasattr(model, "name_or_path"):
        model.name_or_path = name
    tokenizer.name_or_path = name
    tokenizer.init_kwargs = {k: (scrub(v, terms, name) if isinstance(v, str) else v) for k, v in tokenizer.init_kwargs.items()}
    tokenizer.init_kwargs["name_or_path"] = name
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.chat_template
        if template is not None:
            text = text.replace(*template)
        tokenizer.chat_template = scrub(text, terms, name)
