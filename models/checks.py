"""Argument checks shared by the command lines, the quiz and the app, each failing with one clear sentence."""

from __future__ import annotations


def whole_number(value, what: str, low: int, high: int) -> int:
    """`value` as an int in ``[low, high]``.

    Args:
        value: a number or numeric string (``3``, ``3.0``, ``"3"``).
        what: how to name it in the message, e.g. ``"The seed"``.
        low, high: inclusive bounds.

    Raises:
        ValueError: not a whole number in range, e.g. "The seed must be a whole number from 0 to 10, not 'x'."
    """
    try:
        number = float(value)
        ok = number == int(number) and low <= number <= high
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}.")
    return int(number)
