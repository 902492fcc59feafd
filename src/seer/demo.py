"""The offline demo: a scripted agent investigates a question in a real kernel through the notebook tools.

Until the packaged models and model organisms land, the question is a numerical one that needs no
model: how does the largest excursion of a random walk grow with its length? The plan is fixed (it
is a scripted agent, and every record says so), but every number in the report is computed in the
kernel and read back from the notebook, never written in advance.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seer.environment import Environment
from seer.session import Session
from seer.tools.base import ToolContext, ToolResult
from seer.tools.notebook import notebook_tools

__all__ = ["run_demo"]

PLAN: list[tuple[str, dict[str, object]]] = [
    ("add_markdown", {"source": "# Demo (scripted agent)\nHow does max |S_n| of a ±1 random walk grow with n?"}),
    (
        "execute_code",
        {
            "code": "import numpy as np\nrng = np.random.default_rng(0)\n"
            "ns = np.array([2**k for k in range(6, 15)])\n"
            "peaks = np.array([np.abs(np.cumsum(rng.choice([-1, 1], size=(200, n)), axis=1)).max(axis=1).mean()"
            " for n in ns])\nfor n, p in zip(ns, peaks):\n    print(f'n={n:6d}  mean max|S|={p:8.2f}')"
        },
    ),
    (
        "execute_code",
        {
            "code": "import matplotlib.pyplot as plt\nslope, intercept = np.polyfit(np.log(ns), np.log(peaks), 1)\n"
            "plt.loglog(ns, peaks, 'o-', label='measured')\n"
            "plt.loglog(ns, np.exp(intercept) * ns**slope, '--', label=f'fit: exponent {slope:.3f}')\n"
            "plt.xlabel('n'); plt.ylabel('mean max |S_n|'); plt.legend(); plt.show()\nprint(f'exponent {slope:.3f}')"
        },
    ),
    ("read_notebook", {}),
    (
        "execute_code",
        {
            "code": "report = (f'The mean largest excursion grows as n^{slope:.3f} (cells 1-2; log-log fit over '\n"
            "          f'n = {ns[0]}..{ns[-1]}, 200 walks each), consistent with the sqrt(n) law '\n"
            "          f'(exponent 0.5) within {abs(slope - 0.5):.3f}.')\nprint(report)"
        },
    ),
]


async def run_demo(runs_dir: Path, echo: Callable[[str], None] = print) -> Path:
    """Run the scripted investigation; returns the run directory."""
    env = Environment(name="demo", init_code="import warnings; warnings.filterwarnings('ignore')")
    async with Session.open(env, runs_dir=runs_dir) as session:
        session.run.update_record(agent={"provider": "scripted", "note": "fixed plan from seer.demo.PLAN"})
        echo(f"Scripted agent · run {session.run.id}")
        result = ToolResult("")
        for name, arguments in PLAN:
            echo(f"\n▶ {name}({', '.join(f'{k}=…' for k in arguments)})")
            result = await notebook_tools.call(name, dict(arguments), ToolContext(session))
            echo(result.text.rstrip() + (f"\n  (+{len(result.images)} image)" if result.images else ""))
        report = result.text.split("\n", 1)[1].strip()
        final = await notebook_tools.call("finish", {"report": report}, ToolContext(session))
        echo(f"\n▶ finish\n{report}\n{final.text}")
        return session.run.path
