"""pyx12, the independent validator the platform's X12 writers answer to, as one test helper."""

from __future__ import annotations

import io
import logging

import pyx12.params
import pyx12.x12n_document


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(x12: str) -> list[str]:
    """Validate with pyx12's own validator (what `x12valid` runs); the errors it reports, [] if none.
    pyx12 picks its map from GS08 (837P 005010X222A1, 837I 005010X223A2, 835, 999)."""
    handler = _Errors()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(x12), fd_997=None, fd_html=None
        )
    finally:
        logger.removeHandler(handler)
    return handler.messages if handler.messages or valid else ["pyx12 found the file invalid"]
