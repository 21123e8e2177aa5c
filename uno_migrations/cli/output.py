"""What the command line prints: :func:`echo`, tables, plurals and dates, JSON, and error lines.

Everything printed goes through :func:`echo`: :func:`click.echo`, which drops colours when the
stream is not a terminal or when the command runs with ``NO_COLOR`` (see ``program.Program``), and
which lets a reader that closed stdout early (``status | head``) end the output quietly. A run's
progress lines and the log are in progress.py, the commands' reports in reports.py. Nothing here
touches a database.
"""

from __future__ import annotations

import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import click

#: More migrations than this in one run, on a terminal, show a progress bar instead of lines.
PROGRESS_THRESHOLD = 20
#: Longer migration names are cut to this many characters in the ``status`` table.
NAME_WIDTH = 40

STATUS_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "failed": "red",
    "modified": "red",
    "missing": "magenta",
    "invalid": "red",
}
VERBS = {
    ("up", False): ("Applying", "Applied"),
    ("up", True): ("Marking", "Marked"),
    ("down", False): ("Reverting", "Reverted"),
    ("down", True): ("Unmarking", "Unmarked"),
}


def echo(text: str = "", *, nl: bool = True, err: bool = False, **style: Any) -> None:
    """``click.echo`` of ``text`` (styled with ``style``, e.g. ``fg="red"``).

    A closed stdout (the reader of a pipe went away) ends the output, not the command: the
    stream is pointed at the null device and the command goes on, so a run is never stopped
    half-way by its printing, and its exit code stays what the run makes it.
    """
    if style:
        text = click.style(text, **style)
    try:
        click.echo(text, nl=nl, err=err)
    except BrokenPipeError:
        discard_output(err)


def discard_output(err: bool = False) -> None:
    """Send what is still written to stdout (``err``: stderr) to the null device.

    On the file descriptor, so that the interpreter's last flush at exit finds somewhere to
    write and prints no "Exception ignored ... BrokenPipeError"; a stream without one (a test
    runner's) is left as it is.
    """
    stream = sys.stderr if err else sys.stdout
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def print_json(document: dict[str, Any], error: str | None = None) -> None:
    """A ``--json`` document, its ``error`` (None when the command succeeded) last."""
    echo(json.dumps({**document, "error": error}, indent=2))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def when(value: datetime | None) -> str:
    """A timestamp for tables: UTC, to the second."""
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).isoformat(" ", "seconds")[:19] + " UTC"


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def shorten(text: str, width: int = NAME_WIDTH) -> str:
    """``text`` cut to ``width`` characters, ``...`` marking the cut."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _styled() -> bool:
    """Whether click.echo keeps colours on stdout (asked the way click.echo asks it)."""
    strip: Callable[[Any, bool | None], bool] | None = getattr(click.utils, "should_strip_ansi", None)
    if strip is None:
        return True
    return not strip(sys.stdout, click.globals.resolve_color_default())


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    colour: Callable[[int, str], str | None] | None = None,
) -> None:
    """Print aligned columns; ``colour(column, text)`` may name a colour for a cell."""
    body = [list(row) for row in rows]
    if colour is not None and not _styled():
        colour = None  # click would strip the colours again, line by line
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *body, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in body:
        cells = []
        for index, (cell, width) in enumerate(zip(row, widths, strict=True)):
            padded = cell.ljust(width) if index < len(row) - 1 else cell
            fg = colour(index, cell) if colour else None
            cells.append(click.style(padded, fg=fg) if fg else padded)
        lines.append("  ".join(cells).rstrip())
    # One write for the whole table: ten thousand rows print in milliseconds.
    echo("\n".join(lines))


# -- errors and logging ------------------------------------------------------------------------


def error_message(exc: BaseException) -> str:
    """What ``error: ...`` says about ``exc``: one line, passwords masked."""
    from ..errors import MigrationError
    from ..urls import mask_secrets

    message = str(exc) if isinstance(exc, MigrationError) else f"{type(exc).__name__}: {exc}"
    return one_line(mask_secrets(message) if message.strip() else type(exc).__name__)


def error(exc: BaseException, verbose: int) -> None:
    """``error: <message>`` on stderr, on one line; with ``-v`` the traceback first."""
    from ..urls import mask_secrets

    if verbose:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        echo(mask_secrets(trace.rstrip()), err=True)
    error_line(error_message(exc))


def one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def error_line(message: str) -> None:
    """Print ``error: <message>`` on stderr, the message folded onto one line."""
    echo(f"{click.style('error:', fg='red', bold=True)} {one_line(message)}", err=True)
