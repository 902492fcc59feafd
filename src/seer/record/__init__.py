"""The run record, the single source of truth about a run: its formats, its one writer for each file,
and the readers every consumer (judge, viewer, resume, CLI) goes through.

- `run_record`: `run.json`, typed (`RunRecord`, `read_run`); written by `seer.run.RunDir`.
- `events`: the transcript's event classes, one per kind, with the schema version.
- `transcript`: `transcript.jsonl`'s writer (validating each event) and its torn-line-safe readers.
- `requests`: the files through which the viewer's page asks a running agent to stop or answers its
  checkpoint questions.
"""
