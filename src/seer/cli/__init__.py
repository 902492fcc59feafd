"""`seer …`: the command line. Every command explains itself with `--help`.

One module an area, each holding its commands as plain functions that `app` registers here: `runs`
(run, chat, resume, fork, prompt), `new` (new, check), `bench`, `audit`, `catalog` (tasks; the group `skills`), `judge`,
`demo`, `gallery`, `doctor` (doctor, sandboxes), `mcp`, `view`, and the groups `scope` and `export`; `options` holds
what several share.
"""

import typer

from seer.cli import audit, bench, catalog, demo, doctor, export, gallery, judge, mcp, new, runs, scope, view

__all__ = ["app"]

app = typer.Typer(
    name="seer",
    help="Seer: AI agents doing interpretability research in live notebooks, with complete run records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for command in (
    mcp.mcp, demo.demo, gallery.gallery, doctor.doctor, doctor.sandboxes, view.view,
    runs.run, runs.chat, runs.resume, runs.fork, runs.prompt, new.new, new.check, bench.bench, audit.audit, catalog.tasks, judge.judge,
):  # fmt: skip
    app.command()(command)
app.add_typer(catalog.skills_app, name="skills")
app.add_typer(scope.app, name="scope")
app.add_typer(export.app, name="export")
