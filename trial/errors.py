"""The one error type for unusable input: it names the file, the field, the problem and the fix."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A source file or a trial configuration that cannot be used at all.

    Bad *rows* never raise this: they become queries. This is for a missing file, a missing
    column, an unknown configuration key, a value of the wrong kind.
    """

    def __init__(self, file: Path | str, field: str | None, problem: str, fix: str) -> None:
        self.file = str(file)
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.problem}. Fix: {self.fix}"
