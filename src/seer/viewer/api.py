"""The viewer's HTTP API as an OpenAPI 3.1 document (served at `/api/openapi.json`), for a lab that puts
Seer behind its own page or service: launch a run, follow it, answer its questions, stop it, continue it with more budget."""

from __future__ import annotations

from typing import Any

from seer.version import __version__
from seer.viewer.launch import ContinueRequest, LaunchRequest

__all__ = ["openapi"]

_RUN = {"name": "run", "in": "path", "required": True, "schema": {"type": "string"}, "description": "A run id; a bench's run is `<bench>@<run>`"}
_BENCH = {"name": "bench", "in": "path", "required": True, "schema": {"type": "string"}}
_ERROR = {"description": "The problem and its fix", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _post(summary: str, body: dict[str, Any], ok: dict[str, Any], code: str = "200") -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearer": []}, {"cookie": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {code: ok, "400": _ERROR, "403": _ERROR, "415": _ERROR},
    }


def openapi() -> dict[str, Any]:
    """The document: every route, the launch request's schema, and how to send the secret."""
    stream = {"description": "Server-Sent Events", "content": {"text/event-stream": {"schema": {"type": "string"}}}}
    launched = {"type": "object", "properties": {k: {"type": "string"} for k in ("id", "url", "log")} | {"pid": {"type": "integer"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Seer viewer", "version": __version__,
                 "description": "Reads need a Host naming the server; anything that changes state also needs the "
                                "secret printed by `seer view` (`Authorization: Bearer <token>`, or the cookie the "
                                "printed URL sets), a same-origin Origin when one is sent, and a JSON body."},  # fmt: skip
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "seer_view_<port>"},
            },
            "schemas": {
                "LaunchRequest": LaunchRequest.model_json_schema(),
                "ContinueRequest": ContinueRequest.model_json_schema(),
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
            },
        },
        "paths": {
            "/api/launch": {
                "get": {"summary": "What a launch can name: packaged tasks, skills, providers", "responses": {"200": _json("The choices")}},
                "post": _post("Start a run", {"$ref": "#/components/schemas/LaunchRequest"},
                              _json("The new run: its id, page URL, process id and log file", launched), "201"),  # fmt: skip
            },
            "/api/runs": {"get": {"summary": "Every run, newest first", "responses": {"200": _json("Run summaries", {"type": "array"})}}},
            "/api/runs/stream": {"get": {"summary": "The run list whenever it changes", "responses": {"200": stream}}},
            "/api/runs/{run}": {"get": {"summary": "One run's record and summary", "parameters": [_RUN], "responses": {"200": _json("The run"), "404": _ERROR}}},
            "/api/runs/{run}/cells": {"get": {"summary": "A page of notebook cells (`start`, `limit` ≤ 200)", "parameters": [_RUN],
                                              "responses": {"200": _json("Cells", {"type": "array"})}}},  # fmt: skip
            "/api/runs/{run}/events": {"get": {"summary": "Transcript events before `end`, newest `limit` (≤ 1000), texts cut at `max_chars`",
                                               "parameters": [_RUN], "responses": {"200": _json("Events and where they start")}}},  # fmt: skip
            "/api/runs/{run}/stream": {"get": {"summary": "Cells, events, the run and checkpoint questions as they change", "parameters": [_RUN],
                                               "responses": {"200": stream}}},  # fmt: skip
            "/api/runs/{run}/answer": {"post": {**_post("Answer the agent's checkpoint question",
                                                        {"type": "object", "properties": {"id": {"type": "integer"}, "answer": {"type": "string"}}},
                                                        _json("Accepted")), "parameters": [_RUN]}},  # fmt: skip
            "/api/runs/{run}/stop": {"post": {**_post("Stop a running run", {"type": "object"}, _json("Accepted")), "parameters": [_RUN]}},
            "/api/runs/{run}/continue": {"post": {**_post("Resume a stopped run that did not finish, with raised limits",
                                                          {"$ref": "#/components/schemas/ContinueRequest"},
                                                          _json("The resumed run: its id, page URL, process id and log file", launched), "201"),
                                                  "parameters": [_RUN]}},  # fmt: skip
            "/api/benches": {"get": {"summary": "Every bench folder with its progress", "responses": {"200": _json("Bench summaries", {"type": "array"})}}},
            "/api/benches/{bench}": {"get": {"summary": "A bench's matrix (task × agent rows, a column per configuration, a chip per repeat) and its summary",
                                             "parameters": [_BENCH], "responses": {"200": _json("The bench"), "404": _ERROR}}},  # fmt: skip
            "/api/benches/{bench}/stream": {"get": {"summary": "The bench whenever it changes", "parameters": [_BENCH], "responses": {"200": stream}}},
            "/api/benches/{bench}/plots/{plot}": {"get": {"summary": "`solve_rate.png` or `cost_vs_solve.png`", "parameters": [_BENCH],
                                                          "responses": {"200": {"description": "PNG"}, "404": _ERROR}}},  # fmt: skip
        },
    }
