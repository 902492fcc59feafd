"""Turn notebook outputs into what an agent reads: plain text and PNG images.

Errors lose their ANSI colour codes; HTML becomes readable text (tables row by row) unless a good
plain-text form exists (pandas gives one); JPEG, GIF and WebP become PNG; huge images are scaled
down. Text past a limit is cut in the middle with a marker saying where the full output is kept.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

__all__ = ["AgentOutput", "ansi_free", "html_to_text", "render_outputs", "short_traceback"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_BARE_REPR = re.compile(r"^<[\w.]+ (object|at 0x)[^>]*>$")
_MAX_IMAGE_SIDE = 1568
_RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass
class AgentOutput:
    """What the agent is shown for a list of outputs."""

    text: str = ""
    images: list[bytes] = field(default_factory=list)
    """PNG bytes, at most the image limit."""
    truncated_chars: int = 0
    omitted_images: int = 0


def ansi_free(text: str) -> str:
    """Remove terminal colour and cursor codes."""
    return _ANSI.sub("", text)


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "pre"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("td", "th") and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append(" | ")
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data.strip("\n"))


def html_to_text(html: str) -> str:
    """Readable text from HTML: tags dropped, table cells joined with ` | `, one row per line."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t]+", " ", line).strip(" |") for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


def _png(mime: str, payload: str) -> bytes | None:
    """PNG bytes for a raster image, scaled down if its longest side is too long; None if unreadable."""
    raw = base64.b64decode(payload)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency; this guards odd installs
        return raw if mime == "image/png" else None
    try:
        image = Image.open(io.BytesIO(raw))
        if mime == "image/png" and max(image.size) <= _MAX_IMAGE_SIDE:
            return raw
        image.thumbnail((_MAX_IMAGE_SIDE, _MAX_IMAGE_SIDE))
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
    except Exception:
        return None


def _data_text(data: dict[str, Any]) -> str:
    """The best text form of a rich output."""
    plain = _joined(data.get("text/plain", ""))
    html = _joined(data.get("text/html", ""))
    if html and (not plain or _BARE_REPR.match(plain.strip())):
        return html_to_text(html)
    if "text/markdown" in data:
        return _joined(data["text/markdown"])
    if plain:
        return plain
    if "application/json" in data:
        return str(data["application/json"])
    if "image/svg+xml" in data:
        return "[SVG image: not rasterised; save the figure as PNG to see it]"
    return f"[output of type {', '.join(sorted(data))}]"


def _joined(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


_LIBRARY = re.compile(r"site-packages|dist-packages|/lib/python\d")


def _frame_kind(entry: str) -> str:
    """`user` (a cell, or a file outside installed packages), `library`, or `other` (headers, the exception)."""
    if entry.startswith(("Cell In[", "Input In [")):
        return "user"
    if entry.startswith("File "):
        return "library" if _LIBRARY.search(entry.split("\n", 1)[0]) else "user"
    return "other"


def short_traceback(entries: list[str], where: str) -> str:
    """An IPython traceback (its entries, colour removed) as an agent needs it: the headers, the user's own
    frames, the last library frame and the exception; a line says how many library frames are left out
    and where the whole traceback is."""
    kinds = [_frame_kind(entry) for entry in entries]
    library = [i for i, kind in enumerate(kinds) if kind == "library"]
    dropped = library[:-1]
    if not dropped:
        return "\n".join(entries)
    kept: list[str] = []
    for i, entry in enumerate(entries):
        if i == dropped[0]:
            kept.append(f"[... {len(dropped)} library frame(s) not shown; the whole traceback is in {where} ...]\n")
        if i not in dropped:
            kept.append(entry)
    return "\n".join(kept)


def render_outputs(
    outputs: list[dict[str, Any]], *, max_chars: int, max_images: int, where: str, whole_tracebacks: bool = False
) -> AgentOutput:
    """Render outputs for the agent.

    Args:
        outputs: nbformat v4 output dicts.
        max_chars: Text limit; past it the middle is replaced by a marker.
        max_images: Image limit; the rest are counted, not sent.
        where: Where the full output is kept, quoted in the markers (e.g. "cell 3 of notebook.ipynb").
        whole_tracebacks: Keep every frame of a traceback (by default, the library frames between the
            user's own and the last are left out: `short_traceback`).
    """
    rendered = AgentOutput()
    parts: list[str] = []
    for output in outputs:
        kind = output["output_type"]
        if kind == "stream":
            parts.append(ansi_free(_joined(output["text"])))
        elif kind == "error":
            entries = [ansi_free(line) for line in output.get("traceback", [])]
            trace = "\n".join(entries) if whole_tracebacks else short_traceback(entries, where)
            parts.append(trace or f"{output['ename']}: {output['evalue']}")
            parts.append("\n")
        else:
            data = output.get("data", {})
            raster = next((m for m in _RASTER if m in data), None)
            png = _png(raster, _joined(data[raster])) if raster else None
            if png is None:
                parts.append(_data_text(data) + "\n")
            elif len(rendered.images) < max_images:
                rendered.images.append(png)
            else:
                rendered.omitted_images += 1
    text = "".join(parts)
    if len(text) > max_chars:
        keep = max_chars // 2
        rendered.truncated_chars = len(text) - 2 * keep
        marker = (
            f"\n\n[... {rendered.truncated_chars:,} characters elided; the full output is in {where} ...]\n\n"
        )
        text = text[:keep] + marker + text[-keep:]
    if rendered.omitted_images:
        text += f"\n[{rendered.omitted_images} more image(s) not shown; all are in {where}]\n"
    rendered.text = text
    return rendered
