"""The version of the code Seer ships into sandboxes (this toolkit and the scope server). The harness
compares it with its own `seer.__version__` before a session uses the shipped copy, so a stale copy on
a remote machine is a clear error, not a subtle one."""

__version__ = "0.1.0"
