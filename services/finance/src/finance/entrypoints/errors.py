"""The one place where finance's domain errors become HTTP problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from billing_service.problems import FieldError, conflict, invalid, not_found
from finance.domain.errors import AlreadyExists, AlreadyReversed, InvalidInput, NotFound


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except InvalidInput as error:
        raise invalid([FieldError(i.field, i.message) for i in error.issues]) from None
    except NotFound as error:
        raise not_found(error.what) from None
    except AlreadyReversed:
        raise conflict("This expense is already reversed.", "already-reversed") from None
    except AlreadyExists as error:
        raise conflict(f"This {error.what} already exists.", "already-exists") from None
    except asyncpg.UniqueViolationError:
        raise conflict("This record already exists.", "duplicate") from None
