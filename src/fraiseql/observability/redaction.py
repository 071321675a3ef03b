"""Variables as they may be logged or stored: values replaced, keys kept, unless allowed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REDACTED = "[REDACTED]"


@dataclass(frozen=True, slots=True)
class Redaction:
    """Which variables keep their values in logs, traces and the error table.

    By default none does: every value (at any depth) becomes ``"[REDACTED]"`` while the keys
    stay, so a reader sees the shape of the input without its content. ``allow`` names the
    variables (top-level names, or keys at any depth) whose values are kept as they are;
    ``enabled=False`` keeps everything (for development only).
    """

    allow: frozenset[str] = frozenset()
    enabled: bool = True

    @classmethod
    def allowing(cls, names: Iterable[str]) -> Redaction:
        """A redaction that keeps the values of ``names``."""
        return cls(allow=frozenset(names))

    def apply(self, variables: dict[str, Any] | None) -> dict[str, Any] | None:
        """A redacted copy of ``variables`` (``None`` stays ``None``)."""
        if variables is None or not self.enabled:
            return variables
        return {key: self._value(key, value) for key, value in variables.items()}

    def _value(self, key: str, value: Any) -> Any:
        if key in self.allow:
            return value
        if isinstance(value, dict):
            return {k: self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(key, item) for item in value]
        return REDACTED
