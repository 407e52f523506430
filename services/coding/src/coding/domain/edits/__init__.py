"""The edits that keep claims clean. Each has a stable id, a severity, and yields findings with a
message (codes, never patient data) and a field path (zero-based JSON indexes).

`run_edits` applies every edit at once, so a coder sees all problems in one answer.
"""

from __future__ import annotations

from coding.domain.edits.catalogue import CATALOGUE, EditSpec
from coding.domain.edits.context import EditContext
from coding.domain.edits.runner import run_edits

__all__ = ["CATALOGUE", "EditContext", "EditSpec", "run_edits"]
