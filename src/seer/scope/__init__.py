"""Scoped sessions: an author's `@expose` functions, served from a separate process, are all the agent
may call. This package runs inside the sandbox (shipped as `seer_scope`); `seer.scope.client` is the
harness side."""

from .expose import expose, models

__all__ = ["expose", "models"]
