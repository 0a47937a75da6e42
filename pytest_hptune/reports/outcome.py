"""What a report tells pytest-hptune it did (see ``hookspecs.py``), and the
shape the built-in file reports share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class ReportOutcome:
    """A line of the ``hptune`` terminal section: what a report wrote, or
    (``problem=True``) why it could not, shown in red after ``hptune: ``."""

    text: str
    problem: bool = False

    @classmethod
    def written(cls, what: str, path: Any) -> ReportOutcome:
        return cls(f"{what}: {path}")

    @classmethod
    def failed(cls, what: str, path: Any, exc: BaseException) -> ReportOutcome:
        return cls(f"could not write the {what} {path}: {exception_text(exc)}", problem=True)


def exception_text(exc: BaseException) -> str:
    """``Type: message`` on one line; the type alone when the message is
    empty (or blank: matplotlib's start with a newline), never nothing."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Incomplete(Exception):
    """Raised by a report's ``write`` after it wrote what it could: the
    report is written, and each of ``problems`` is a problem line (a picture
    that could not be drawn, say)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def write_report(
    what: str, path: Path | None, write: Callable[[Path, list[dict[str, Any]]], Any], records: list[dict[str, Any]]
) -> list[ReportOutcome]:
    """``write(path, records)`` when a path is set: its outcome as a list
    (empty without a path); an exception becomes a problem, never an
    INTERNALERROR."""
    if path is None:
        return []
    try:
        write(path, records)
    except Incomplete as exc:
        return [ReportOutcome.written(what, path), *(ReportOutcome(p, problem=True) for p in exc.problems)]
    except Exception as exc:  # a report never becomes an INTERNALERROR
        return [ReportOutcome.failed(what, path, exc)]
    return [ReportOutcome.written(what, path)]


class FileReport:
    """A built-in report written from every record to one path (a file or a
    folder) when it is set. Subclasses name it (``what``) and give ``write``."""

    what = "report"

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def write(self, path: Path, records: list[dict[str, Any]], /) -> Any:
        raise NotImplementedError

    @pytest.hookimpl(tryfirst=True)
    def pytest_hptune_write_reports(self, records: list[dict[str, Any]]) -> list[ReportOutcome]:
        return write_report(self.what, self.path, self.write, records)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
