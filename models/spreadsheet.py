"""Cells that a spreadsheet shows as text, never runs: the CSV-injection rule for every export.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice Calc and Google Sheets as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``,
``@SUM(...)``, even ``-2+3``). Following OWASP's "CSV Injection" guidance, such a text cell is
written with a leading apostrophe, which the spreadsheet shows as text; numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV Injection).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, with an apostrophe before a text that a spreadsheet would run as a formula.

    Args:
        value: a cell; only ``str`` values are changed (an int ``-2`` stays a number).

    Returns:
        the cell as it may be written.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A CSV row (column -> cell) with every cell passed through `safe_cell`."""
    return {key: safe_cell(value) for key, value in row.items()}
