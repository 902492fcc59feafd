"""The offline bench (2 tasks × 2 agents × 2 configurations × 3 repeats, 2 at a time) with `[sandbox]
provider = "ray"`: every run's kernel on the suite's local Ray cluster (an actor and a Jupyter server per
run), the same outcomes as on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from seer.bench import load_bench, run_bench
from tests.agent.fake_llm import FakeLLM
from tests.bench.test_offline_bench import brain, expected, make_tasks, spec_text

pytest.importorskip("ray")

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(900)]


async def test_the_bench_runs_on_a_ray_cluster(tmp_path: Path, ray_cluster: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tasks(tmp_path)
    for task in ("alpha", "beta"):  # 2 actors, their Jupyter servers and kernels share 2 cores with the suite
        (tmp_path / task / "env.toml").write_text(f'name = "{task}"\n[timeouts]\nkernel_start_s = 300\n')
    monkeypatch.setenv("SEER_TEST_KEY", "test-key")
    lines: list[str] = []
    async with FakeLLM(brain) as llm:
        text = spec_text(llm.url).replace(
            "[base]\ntoolkit = false", f'[base]\ntoolkit = false\nsandbox = {{provider = "ray", address = "{ray_cluster}", cpus = 1}}'
        )
        (tmp_path / "bench.toml").write_text(text)
        spec = load_bench(tmp_path / "bench.toml")
        result = await run_bench(spec, tmp_path / "out", root=tmp_path, say=lines.append)
    assert result.stopped is None and len(result.rows) == result.cells == 24, lines
    for row in result.rows:
        assert (row["outcome"], row["correct"]) == expected(row), row
        record = (tmp_path / "out" / "runs" / row["run"] / "run.json").read_text()
        assert '"provider": "ray"' in record
    assert (tmp_path / "out" / "summary.md").is_file()
