"""The one writer of PostgreSQL's ``COPY … FROM STDIN`` (text format) in the product: a run's
staged evaluations (``metrics.runs.chunks``) and the resolution figures computed beside its
figures statement (``metrics.engine.compute``).

The text format, not CSV: JSON is full of double quotes, which CSV doubles (in Python) and then
parses back (in PostgreSQL); the text format only escapes backslashes, tabs and line ends.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

# A backslash starts an escape, a tab ends a field, a newline a row.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: Any) -> str:
    """One field: NULL is \\N; a bool t/f; dicts and lists as JSON; anything else its text."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).translate(_ESCAPES)


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` on this thread's connection (PostgreSQL);
    ``table`` and ``columns`` are quoted here."""
    buffer = io.StringIO()
    buffer.writelines("\t".join(map(copy_field, row)) + "\n" for row in rows)
    buffer.seek(0)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(  # the psycopg2 cursor under Django's wrapper
            f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN",
            buffer,
        )
