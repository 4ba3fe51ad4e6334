"""Argument checks shared by the command lines, the quiz and the app, each failing with one clear sentence."""

from __future__ import annotations

import argparse
import math
import os
import secrets
from pathlib import Path


def whole_number(value, what: str, low: int, high: int) -> int:
    """`value` as an int in ``[low, high]``.

    Args:
        value: a number or numeric string (``3``, ``3.0``, ``"3"``); booleans are refused (``True`` is not 1 face).
        what: how to name it in the message, e.g. ``"The seed"``.
        low, high: inclusive bounds.

    Raises:
        ValueError: not a whole number in range, e.g. "The seed must be a whole number from 0 to 10, not 'x'."
    """
    try:
        number = float(value)
        ok = not isinstance(value, bool) and number == int(number) and low <= number <= high
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}.")
    return int(number)


def number_in(value, what: str, low: float, high: float, unit: str = "") -> float:
    """`value` as a finite float in ``[low, high]``.

    Args:
        value: a number or numeric string; booleans, None, NaN and infinities are refused.
        what: how to name it in the message, e.g. ``"The age"``.
        low, high: inclusive bounds. unit: appended to the bounds in the message, e.g. ``" years"``.

    Raises:
        ValueError: e.g. "The age must be a number from 0 to 18 years, not 'five'."
    """
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}{unit}, not {value!r}.")
    return number


class OneLineParser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` whose errors are one ``error: ...`` line and status 2.

    argparse prints usage and then the error; our command lines promise exactly one ``error: ...`` line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message}\n")


def one_line(e: BaseException) -> str:
    """An exception's message on one line (our promise for ``error: ...`` output)."""
    return " ".join(str(e).split())


def check_writable_folder(folder: Path) -> None:
    """Check that `folder` exists and a file can be created in it.

    A probe file is created and removed, because `os.access` says yes to root even on a
    read-only file system.

    Raises:
        ValueError: with a one-line reason.
    """
    if not folder.is_dir():
        raise ValueError(f"output folder does not exist: {folder}")
    probe = folder / f".phenoface-{secrets.token_hex(4)}.probe"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as e:
        raise ValueError(f"cannot write to output folder {folder}: {e.strerror or e}") from None


def check_png_output(path: Path, flag: str = "--out") -> None:
    """Check before drawing that `path` can be written: a .png in an existing, writable folder.

    Raises:
        ValueError: with a one-line reason.
    """
    if path.suffix.lower() != ".png":
        raise ValueError(f"{flag} must end in .png: {path}")
    if path.is_dir():
        raise ValueError(f"{flag} is a folder, not a file: {path}")
    check_writable_folder(path.parent)
