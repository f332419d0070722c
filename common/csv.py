"""The one CSV formula guard (OWASP "CSV injection"), used by every CSV the product writes:
evidence, the grades export and the policy preview's movers.

Ids, names and labels come from the marketplace or from staff, and a spreadsheet opening the
file runs a cell that starts a formula. A cell is neutralised with a leading ``'`` when its
first non-whitespace character, after NFKC normalisation, is ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return: ``" =1+1"``, ``"\\n=1+1"`` and the full-width ``"＝1+1"`` are formulas to
a spreadsheet as much as ``"=1+1"`` is. NFKC folds the full-width and other compatibility forms
(``＝`` → ``=``, ``＋`` → ``+``, ``﹣`` → ``-``, ``＠`` → ``@``) before the check.

Numbers, booleans and datetimes the product itself writes are not text from outside: only
strings are looked at, so a negative amount stays a number.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# OWASP's list: the characters a spreadsheet takes as the start of a formula (or that hide one).
FORMULA_STARTS = frozenset("=+-@\t\r")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (see the module's rule)."""
    for char in unicodedata.normalize("NFKC", text):
        if char in FORMULA_STARTS:  # tab and CR are whitespace, and starts themselves
            return True
        if not char.isspace():
            return False
    return False


def safe_text(text: str) -> str:
    """``text``, prefixed with ``'`` when a spreadsheet could read it as a formula."""
    return "'" + text if is_formula(text) else text


def safe_cell(value: Any) -> str:
    """A value as a CSV cell: empty for None, ``true``/``false``, RFC 3339 to the second for
    times (ISO 8601 for dates), numbers as written, and any text through the formula guard."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # RFC 3339 to the second (issue 21): spreadsheets and log tools read it as is.
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return safe_text(str(value))
