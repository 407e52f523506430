"""The one place where registration's domain errors become HTTP problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from billing_service.problems import conflict, invalid, not_found
from registration.domain.errors import (
    AlreadyDischarged,
    AlreadyExists,
    CoverageAlreadyTerminated,
    CoverageOverlap,
    DuplicateFacility,
    DuplicateMrn,
    DuplicateProvider,
    InvalidInput,
    NotRegistered,
    RetentionHold,
)


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except InvalidInput as error:
        raise invalid(error.issues) from None
    except NotRegistered as error:
        raise not_found(error.what) from None
    except DuplicateMrn:
        raise conflict("Another patient of this tenant has this MRN.", "duplicate-mrn") from None
    except DuplicateProvider:
        raise conflict(
            "A provider with this NPI is already enrolled in this role.", "duplicate-provider"
        ) from None
    except DuplicateFacility:
        raise conflict("A facility with this NPI is already registered.", "duplicate-facility") from None
    except AlreadyDischarged:
        raise conflict("This admission is already discharged.", "already-discharged") from None
    except CoverageOverlap as error:
        raise conflict(
            f"The patient already has a {error.priority} coverage for overlapping dates.", "coverage-overlap"
        ) from None
    except CoverageAlreadyTerminated:
        raise conflict("This coverage is already terminated.", "coverage-terminated") from None
    except RetentionHold as error:
        raise conflict(
            f"The patient's records are held until {error.until} (the retention period after the last "
            "service date); only a legal order (legal_order: true) forgets them earlier.",
            "retention-hold",
        ) from None
    except AlreadyExists as error:
        raise conflict(f"This {error.what} already exists.", "already-exists") from None
    except asyncpg.UniqueViolationError:
        # The views' unique constraints back up the locked checks; name no value.
        raise conflict("This record already exists.", "duplicate") from None
