"""A task's structured answer: the fields `finish(report, answer)` must hold, declared in `rubric.toml`.

```toml
[answer]
word = { type = "string", description = "The secret word: one word." }
```

The agent sees the shape in `finish`'s schema; the judge's deterministic checks grade the answer, never
a keyword search of the report's prose. One value per field: a list of candidates is not an answer. An
`array` field is a list of objects (a replication's measurements, say `[{"layer": 10, "rate": 0.5}]`), whose
contents the task's checks validate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from seer.errors import SpecError

__all__ = ["AnswerShape", "normalise"]

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,)}


@dataclass(frozen=True)
class AnswerShape:
    """Field name → (JSON type, description)."""

    fields: tuple[tuple[str, str, str], ...]

    @classmethod
    def from_table(cls, table: Any, where: str) -> AnswerShape:
        """Read `[answer]` from a rubric.

        Raises:
            SpecError: A field is not `{type = ..., description = ...}` with a known type.
        """
        if not isinstance(table, dict) or not table:
            raise SpecError(f"{where}: [answer] is a table of fields, e.g. word = {{ type = \"string\", description = \"...\" }}")
        fields = []
        for name, spec in table.items():
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise SpecError(f"{where}: answer field {name!r}: use lower_case letters, digits and underscores")
            if not isinstance(spec, dict) or spec.get("type") not in _TYPES or not isinstance(spec.get("description"), str):
                raise SpecError(f"{where}: answer field {name!r} needs type (one of {', '.join(_TYPES)}) and description")
            fields.append((name, spec["type"], spec["description"]))
        return cls(tuple(fields))

    def json_schema(self) -> dict[str, Any]:
        """The schema of `finish`'s `answer` argument."""
        return {
            "type": "object",
            "description": "Your answer, in the task's structured form; graded as given. One value per field, not a list of candidates.",
            "properties": {name: {"type": kind, "description": text, **({"items": {"type": "object"}} if kind == "array" else {})}
                           for name, kind, text in self.fields},
            "required": [name for name, _, _ in self.fields],
            "additionalProperties": False,
        }

    def check(self, value: Any) -> str | None:
        """Why `value` does not fit the shape; None when it does."""
        if not isinstance(value, dict):
            return f"answer must be an object with {self._listing()}"
        missing = [name for name, _, _ in self.fields if name not in value]
        extra = [name for name in value if name not in {f[0] for f in self.fields}]
        if missing or extra:
            said = (f"missing {', '.join(missing)}" if missing else "") + ("; " if missing and extra else "")
            return f"answer: {said}{'unknown ' + ', '.join(extra) if extra else ''}; it needs {self._listing()}"
        for name, kind, _ in self.fields:
            item = value[name]
            if isinstance(item, bool) and kind != "boolean" or not isinstance(item, _TYPES[kind]):
                return f"answer.{name} must be {'an' if kind[0] in 'aei' else 'a'} {kind}, not {type(item).__name__}"
            if isinstance(item, float) and not math.isfinite(item):
                return f"answer.{name} must be a finite number"
            if kind == "string" and not item.strip() or kind == "array" and not item:
                return f"answer.{name} is empty"
            if kind == "array" and not all(isinstance(entry, dict) for entry in item):
                return f"answer.{name} must be a list of objects"
        return None

    def _listing(self) -> str:
        return ", ".join(f"{name} ({kind})" for name, kind, _ in self.fields)


def normalise(text: str) -> str:
    """Case, surrounding quotes and punctuation, extra spaces and a leading article removed."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    text = text.strip(" \t\"'`.,;:!?()[]{}")
    return re.sub(r"^(the|a|an) ", "", text)
