"""Where code runs. `LocalSandbox` (this machine) is the default; remote providers arrive later."""

from seer.sandbox.base import ExecResult, Sandbox
from seer.sandbox.local import LocalSandbox

__all__ = ["ExecResult", "LocalSandbox", "Sandbox"]
