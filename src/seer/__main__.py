"""`python -m seer` is the same as the `seer` command."""

from seer.cli import app

app()
