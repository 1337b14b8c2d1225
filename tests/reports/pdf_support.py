"""Shared by the PDF tests: a machine where WeasyPrint cannot load, and the warnings logged."""

from __future__ import annotations

import logging
import sys

import pytest

from reports import pdf as report_pdf

# What cffi raises when WeasyPrint is imported on a machine without Pango.
NO_PANGO = "cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file: No such file or directory"


class _NoPango:
    """An import hook: importing weasyprint fails as it does without Pango."""

    def find_spec(self, name, path=None, target=None):
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError(NO_PANGO)
        return None


@pytest.fixture
def weasyprint_missing(monkeypatch):
    """WeasyPrint cannot load, as on a machine without Pango."""
    for name in [name for name in sys.modules if name == "weasyprint" or name.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])
    report_pdf._weasyprint.cache_clear()
    yield
    report_pdf._weasyprint.cache_clear()


class CollectedWarnings(logging.Handler):
    """The warnings of the "toxwatch" logger while in use (the CLI stops them propagating)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> CollectedWarnings:
        logging.getLogger("toxwatch").addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger("toxwatch").removeHandler(self)
