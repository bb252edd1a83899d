"""The one error type for expected failures: it names the stage, table, row and column."""

from __future__ import annotations

MAX_MESSAGE = 1200  # characters of a message; longer ones are shortened in the middle
# Characters that a terminal acts on or that reorder what it shows: escaped in every message (a value read
# from a file may hold a newline, an ANSI escape sequence or a right-to-left override).
_UNSAFE = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)
}
_LINES = {k: v for k, v in _UNSAFE.items() if chr(k) not in "\t\n\r"}


def escape(text: str, *, lines: bool = False) -> str:
    """`text` with every control character and direction override written as an escape (\\x1b,
    \\u202e); with `lines`, tabs, newlines and carriage returns are kept (output of several lines)."""
    return text.translate(_LINES if lines else _UNSAFE)


class PipelineError(Exception):
    """An expected failure (bad input, failed check). The CLI prints it without a traceback."""

    def __init__(
        self,
        stage: str,
        message: str,
        *,
        table: str | None = None,
        row: str | None = None,
        column: str | None = None,
        hint: str | None = None,
    ):
        self.stage, self.table, self.row, self.column, self.hint = stage, table, row, column, hint
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        """The error as one line: stage, table, row and column, the message and the hint."""
        where = [
            f"table {self.table}" if self.table else "",
            f"row {self.row}" if self.row else "",
            f"column {self.column}" if self.column else "",
        ]
        where_text = ", ".join(w for w in where if w)
        message = self.message
        if len(message) > MAX_MESSAGE:  # e.g. a hostile row of a thousand cells: keep both ends
            left = len(message) - MAX_MESSAGE + 200
            message = f"{message[: MAX_MESSAGE - 400]} [... {left:,} characters left out ...] {message[-200:]}"
        text = f"[{self.stage}] {where_text + ': ' if where_text else ''}{message}"
        if self.hint:
            text += f" {self.hint}"
        return escape(text)


class MetadataError(PipelineError):
    """A mistake in schemas/ (fields, resources, views, extraction specs): named, without a traceback."""

    def __init__(self, message: str):
        super().__init__("metadata", message, hint="Fix it in schemas/.")
