"""Models in a session: loaded hidden in the kernel, listed in the prompt, their identity unreachable."""

from pathlib import Path

import pytest

from seer.environment import Environment
from seer.prompt import system_prompt
from seer.session import Session

pytestmark = pytest.mark.anyio

IDENTITY = ["smollm", "huggingfacetb", "hugging face", "135m"]

SEARCH = r'''
import collections, gc, torch
_terms = {terms!r}
_seen, _hits, _queue = set(), [], collections.deque()
for _name, _value in list(globals().items()):
    if not _name.startswith("_") and _name not in ("In", "Out", "exit", "quit", "get_ipython"):
        _queue.append((_name, _value, 0))
while _queue and len(_seen) < 400_000:
    _path, _obj, _depth = _queue.popleft()
    if id(_obj) in _seen or isinstance(_obj, (type(collections), torch.Tensor)) or callable(_obj) and not hasattr(_obj, "__dict__"):
        continue
    _seen.add(id(_obj))
    if isinstance(_obj, (str, bytes)):
        _text = _obj.decode(errors="ignore") if isinstance(_obj, bytes) else _obj
        if any(_t in _text.lower() for _t in _terms):
            _hits.append((_path, _text[:80]))
        continue
    if _depth > 8:
        continue
    if isinstance(_obj, dict):
        _items = [(f"{{_path}}[{{_k!r}}]", _v) for _k, _v in _obj.items()] + [(f"{{_path}}.key", _k) for _k in _obj]
    elif isinstance(_obj, (list, tuple, set, frozenset)):
        _items = [(f"{{_path}}[{{_i}}]", _v) for _i, _v in enumerate(_obj)]
    else:
        _items = [(f"{{_path}}.{{_k}}", _v) for _k, _v in getattr(_obj, "__dict__", {{}}).items()]
        if isinstance(_obj, torch.nn.Module) or hasattr(_obj, "chat_template"):
            _items.append((f"repr({{_path}})", repr(_obj)))
    _queue.extend((_p, _v, _depth + 1) for _p, _v in _items)
print(len(_seen), "objects searched;", "hits:", _hits[:5])
'''


async def test_a_hidden_packaged_model_gives_its_identity_away_nowhere(tmp_path: Path) -> None:
    env = Environment.from_dict({"models": [{"id": "seer:smollm2-135m-instruct", "name": "model", "hidden": True}]})
    async with Session.open(env, runs_dir=tmp_path) as session:
        answer = await session.execute(
            "from seer_interp import generate\nprint(generate(model, model_tokenizer, ['What is the capital of France?'], max_new_tokens=12))"
        )
        searched = await session.execute(SEARCH.format(terms=IDENTITY), timeout_s=300)
        template = await session.execute("print(model_tokenizer.chat_template[:200])\nprint(model.config._name_or_path, model_tokenizer.name_or_path)")
    assert "Paris" in answer.render()[0]
    text = searched.render()[0]
    assert "hits: []" in text, text
    assert int(text.split("]\n", 1)[1].split()[0]) > 1000  # the search really walked the model and tokenizer
    shown = template.render()[0]
    assert "You are a helpful AI assistant" in shown and "model model" in shown
    prompt = system_prompt(env)
    assert "`model` with `model_tokenizer` (identity hidden)" in prompt
    assert not any(term in prompt.lower() for term in IDENTITY)


async def test_a_visible_model_is_bound_and_named(tmp_path: Path) -> None:
    env = Environment.from_dict({"models": [{"id": "seer:tiny-llama", "name": "lm"}]})
    async with Session.open(env, runs_dir=tmp_path) as session:
        cell = await session.execute("print(type(lm).__name__, lm.config.num_hidden_layers, type(lm_tokenizer).__name__)")
        record = session.run.read_record()
    assert cell.render()[0].splitlines()[-1].startswith("LlamaForCausalLM 3 ")
    assert "_seer_load('seer:tiny-llama'" in record["setup"][0]["code"]


async def test_an_organism_adapter_is_placed_under_a_neutral_name_and_can_be_merged(tmp_path: Path) -> None:
    env = Environment.from_dict(
        {"models": [{"id": "seer:smollm2-135m-instruct", "adapter": "seer:taboo-moon", "name": "m", "hidden": True,
                     "merge_adapter": True}]}  # fmt: skip
    )
    async with Session.open(env, runs_dir=tmp_path) as session:
        cell = await session.execute("import os\nprint(type(m).__name__, sorted(os.listdir('.seer/adapters')))")
        shown = cell.render()[0]
    assert "LlamaForCausalLM" in shown and "taboo" not in shown and "moon" not in shown


async def test_without_the_toolkit_the_models_load_but_the_agent_cannot_import_it(tmp_path: Path) -> None:
    env = Environment.from_dict({"models": [{"id": "seer:tiny-llama", "name": "lm"}], "toolkit": False})
    async with Session.open(env, runs_dir=tmp_path) as session:
        cell = await session.execute("print(type(lm).__name__)\nimport sys\nprint([n for n in sys.modules if 'seer' in n])\nimport seer_interp")
        listing = await session.execute("import os\nprint(sorted(os.listdir('libs')))")
    shown = cell.render()[0]
    assert "LlamaForCausalLM\n[]" in shown and "ModuleNotFoundError" in shown
    assert "seer_interp" not in listing.render()[0]
    assert "seer_interp" not in system_prompt(env) and "seer_interp" in system_prompt(env.equip(toolkit=True))
