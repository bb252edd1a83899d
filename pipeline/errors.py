"""The one error type for expected failures: it names the stage, table, row and column."""

from __future__ import annotations

MAX_MESSAGE = 1200  # characters of a message; longer ones are shortened in the middle


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
        return text


class MetadataError(PipelineError):
    """A mistake in schemas/ (fields, resources, views, extraction specs): named, without a traceback."""

    def __init__(self, message: str):
        super().__init__("metadata", message, hint="Fix it in schemas/.")
