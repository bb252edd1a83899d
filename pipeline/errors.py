"""The one error type for expected failures: it names the stage, table, row and column."""

from __future__ import annotations


class PipelineError(Exception):
    """An expected failure (bad input, failed check). The CLI prints it without a traceback."""

    def __init__(self, stage: str, message: str, *, table: str | None = None,
                 row: str | None = None, column: str | None = None, hint: str | None = None):
        self.stage, self.table, self.row, self.column, self.hint = stage, table, row, column, hint
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        where = [f"table {self.table}" if self.table else "",
                 f"row {self.row}" if self.row else "",
                 f"column {self.column}" if self.column else ""]
        where_text = ", ".join(w for w in where if w)
        text = f"[{self.stage}] {where_text + ': ' if where_text else ''}{self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text
