"""The viewer's web app: a page per run list and per run, a JSON API over run directories, and server
push (Server-Sent Events) as runs change. It reads run directories only; what it checks on every
request is in `seer.viewer.guard`, and the API is described at `/api/openapi.json` (docs/viewer.md).

Routes: `/`, `/run/<id>`, `/launch`, `/benches` and `/bench/<name>` (the page), `/api/launch` (GET: the form's choices; POST: start a
run), `/api/runs/<id>/answer` (POST: answer a checkpoint question), `/api/runs/<id>/stop` (POST: stop a
running run), `/api/runs`, `/api/runs/stream`, `/api/runs/<id>`,
`/api/runs/<id>/cells?start=&limit=`, `/api/runs/<id>/cells/<i>/outputs/<j>` (an image),
`/api/runs/<id>/events?end=&limit=&max_chars=` (long texts cut), `/api/runs/<id>/stream`, `/api/benches`,
`/api/benches/<name>` (the matrix and summary), `/api/benches/<name>/stream`, `/api/benches/<name>/plots/<png>`.
A bench's run has the id `<bench>@<run>`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from seer.record.requests import request_stop, write_answer
from seer.record.run_record import read_run
from seer.record.transcript import tail_events
from seer.viewer.api import openapi
from seer.viewer.benches import BENCH_NAME, PLOTS, bench_run, bench_view, list_benches
from seer.viewer.guard import Guard
from seer.viewer.launch import KEYLESS, ContinueRequest, Launcher, LaunchRequest, launch_options
from seer.viewer.runs import RunWatch, cell_view, list_runs, read_cells, run_detail, summarize

__all__ = ["create_app"]

_STATIC = Path(__file__).parent / "static"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@lru_cache(maxsize=8)
def _cells(run: str, stamp: tuple[int, int]) -> list[dict[str, Any]]:
    """A run's notebook cells, parsed once per version of the file."""
    return read_cells(Path(run))


def _shortened(event: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """An event whose long text is cut to `max_chars` (`text_chars` keeps the full length)."""
    text = event.get("text")
    if isinstance(text, str) and len(text) > max_chars:
        return {**event, "text": text[:max_chars], "text_chars": len(text)}
    return event


def _sse(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def create_app(
    runs_dir: Path,
    *,
    token: str,
    hosts: frozenset[str] | None,
    port: int,
    roots: tuple[Path, ...] | None = None,
    benches_dir: Path | None = None,
    poll_s: float = 0.25,
) -> Starlette:
    """The viewer over `runs_dir` and the bench folders in `benches_dir` (default: `benches` beside the runs
    folder), guarded by `token` and `hosts` (see `Guard`); launches may name files under `roots` only
    (default: the runs folder's parent). `poll_s` is how often streamed files are read."""
    runs_dir = runs_dir.resolve()
    benches_dir = (benches_dir or runs_dir.parent / "benches").resolve()
    launcher = Launcher(runs_dir, roots or (runs_dir.parent,))
    stopping = threading.Event()  # set when the server stops: streams end so it can shut down at once

    def run_path(request: Request) -> Path:
        name = request.path_params["run"]
        if "@" in name and (found := bench_run(benches_dir, name)) is not None:  # a bench's run: <bench>@<run>
            return found
        path = runs_dir / name
        if not _RUN_ID.match(name) or not (path / "run.json").is_file():
            raise _NotFound(f"no run {name!r} in {runs_dir}")
        return path

    def bench_path(request: Request) -> Path:
        name = request.path_params["bench"]
        path = benches_dir / name
        if not BENCH_NAME.match(name) or not (path / "bench.json").is_file():
            raise _NotFound(f"no bench {name!r} in {benches_dir}")
        return path

    def cells_of(run: Path) -> list[dict[str, Any]]:
        notebook = run / "notebook.ipynb"
        try:
            stat = notebook.stat()
        except OSError:
            return []
        return _cells(str(run), (stat.st_mtime_ns, stat.st_size))

    async def page(request: Request) -> Response:
        return FileResponse(_STATIC / "index.html")

    async def runs(request: Request) -> Response:
        return JSONResponse(list_runs(runs_dir))

    def pushed(request: Request, kind: str, read: Callable[[], Any]) -> Response:
        """`read()` as server-sent events of `kind`, whenever what it returns changes."""

        async def changes() -> AsyncIterator[str]:
            last = None
            while not stopping.is_set() and not await request.is_disconnected():
                value = await asyncio.to_thread(read)
                if value != last:
                    last = value
                    yield _sse(kind, value)
                await asyncio.sleep(max(poll_s, 0.5))

        return _stream(changes())

    async def runs_stream(request: Request) -> Response:
        return pushed(request, "runs", lambda: list_runs(runs_dir))

    async def run(request: Request) -> Response:
        return JSONResponse(run_detail(run_path(request)))

    async def cells(request: Request) -> Response:
        start = int(request.query_params.get("start", 0))
        limit = min(int(request.query_params.get("limit", 50)), 200)
        stored = cells_of(run_path(request))
        return JSONResponse([cell_view(i, stored[i]) for i in range(max(start, 0), min(start + limit, len(stored)))])

    async def image(request: Request) -> Response:
        stored = cells_of(run_path(request))
        index, output = int(request.path_params["cell"]), int(request.path_params["output"])
        try:
            data = stored[index]["outputs"][output]["data"]
        except (IndexError, KeyError):
            raise _NotFound(f"cell {index} has no output {output}") from None
        for mime in ("image/png", "image/jpeg", "image/gif", "image/webp"):
            if mime in data:
                payload = data[mime]
                return Response(base64.b64decode("".join(payload) if isinstance(payload, list) else payload), media_type=mime,
                                headers={"Cache-Control": "max-age=3600"})  # fmt: skip
        if "image/svg+xml" in data:  # agent-made: may hold script; never a document of this origin
            svg = data["image/svg+xml"]
            return Response("".join(svg) if isinstance(svg, list) else svg, media_type="image/svg+xml",
                            headers={"Content-Security-Policy": _SVG_CSP, "Content-Disposition": f'attachment; filename="cell{index}-{output}.svg"'})  # fmt: skip
        raise _NotFound(f"output {output} of cell {index} is not an image")

    async def events(request: Request) -> Response:
        end = request.query_params.get("end")
        limit = min(int(request.query_params.get("limit", 50)), 1000)
        max_chars = int(request.query_params.get("max_chars", 4000))
        found, start = await asyncio.to_thread(tail_events, run_path(request) / "transcript.jsonl", int(end) if end else None, limit)
        return JSONResponse({"events": [_shortened(event, max_chars) for event in found], "start": start})

    async def run_stream(request: Request) -> Response:
        watch = RunWatch(run_path(request))

        async def changes() -> AsyncIterator[str]:
            quiet = 0.0
            while not stopping.is_set() and not await request.is_disconnected():
                found = await asyncio.to_thread(watch.changes)
                for kind, data in found:
                    yield _sse(kind, data)
                quiet = 0.0 if found else quiet + poll_s
                if quiet >= 15:
                    quiet = 0.0
                    yield ": still here\n\n"
                await asyncio.sleep(poll_s)

        return _stream(changes())

    async def answer(request: Request) -> Response:
        body = await _json_object(request)
        write_answer(run_path(request), int(body.get("id", 0)), str(body.get("answer", "")))
        return JSONResponse({"ok": True})

    async def stop(request: Request) -> Response:
        path = run_path(request)
        row = summarize(path) or {}
        if row.get("status") != "running":
            raise ValueError(f"run {path.name} is not running (status: {row.get('status', 'unknown')}); only a running run can be stopped")
        request_stop(path, "stopped from the viewer's page")
        return JSONResponse({"ok": True})

    async def resume(request: Request) -> Response:
        path = run_path(request)
        row = summarize(path) or {}
        record = read_run(path)
        if str(row.get("status", "")).split(":")[0] not in ("stopped", "interrupted") or (record.stop or {}).get("reason") == "finished":
            raise ValueError(f"run {path.name} is {row.get('status', 'unknown')}; only a stopped run that did not finish can go on")
        try:
            wanted = ContinueRequest.model_validate(await _json_object(request))
        except ValidationError as exc:
            return JSONResponse({"error": "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())}, status_code=400)
        provider = (record.agent or {}).get("provider")
        if provider not in KEYLESS and wanted.max_cost is None and (record.budget or {}).get("cost_usd") is None:
            return JSONResponse({"error": f"provider {provider!r} spends money: set max_cost"}, status_code=400)
        return JSONResponse(await asyncio.to_thread(launcher.resume, path, wanted), status_code=201)

    async def options(request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(launch_options))

    async def start(request: Request) -> Response:
        try:
            wanted = launcher.check(LaunchRequest.model_validate(await _json_object(request)))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            return JSONResponse({"error": problems}, status_code=400)
        return JSONResponse(await asyncio.to_thread(launcher.launch, wanted), status_code=201)

    async def api(request: Request) -> Response:
        return JSONResponse(openapi())

    async def benches(request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(list_benches, benches_dir))

    async def bench(request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(bench_view, bench_path(request)))

    async def bench_stream(request: Request) -> Response:
        path = bench_path(request)
        return pushed(request, "bench", lambda: bench_view(path))

    async def plot(request: Request) -> Response:
        name = request.path_params["plot"]
        path = bench_path(request) / name
        if name not in PLOTS or not path.is_file():
            raise _NotFound(f"no plot {name!r}")
        return Response(path.read_bytes(), media_type="image/png", headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", page),
        Route("/run/{run}", page),
        Route("/launch", page),
        Route("/benches", page),
        Route("/bench/{bench}", page),
        Route("/api/openapi.json", api),
        Route("/api/launch", options, methods=["GET"]),
        Route("/api/launch", start, methods=["POST"]),
        Route("/api/runs/{run}/answer", answer, methods=["POST"]),
        Route("/api/runs/{run}/stop", stop, methods=["POST"]),
        Route("/api/runs/{run}/continue", resume, methods=["POST"]),
        Route("/api/runs", runs),
        Route("/api/runs/stream", runs_stream),
        Route("/api/runs/{run}", run),
        Route("/api/runs/{run}/cells", cells),
        Route("/api/runs/{run}/cells/{cell:int}/outputs/{output:int}", image),
        Route("/api/runs/{run}/events", events),
        Route("/api/runs/{run}/stream", run_stream),
        Route("/api/benches", benches),
        Route("/api/benches/{bench}", bench),
        Route("/api/benches/{bench}/stream", bench_stream),
        Route("/api/benches/{bench}/plots/{plot}", plot),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={_NotFound: _not_found, ValueError: _bad_request})
    app.state.stopping = stopping
    app.add_middleware(Guard, token=token, hosts=hosts, port=port)  # type: ignore[arg-type]
    return app


async def _json_object(request: Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object."""
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _stream(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


class _NotFound(Exception):
    pass


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=404)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
