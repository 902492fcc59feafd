"""Scoped sessions: an author's `@expose` functions, served from a separate process, are all the agent
may call. `expose`, `schema` and `server` run inside the sandbox (shipped as `seer_scope`, standard
library only); `client`, `library` and `setup` are the harness side."""

from .expose import expose, models, session_state, time_left

__all__ = ["expose", "models", "session_state", "time_left"]
