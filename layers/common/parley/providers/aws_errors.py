"""How an AWS provider call (SES, SNS) failed, as a ProviderError the dispatcher can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from parley.providers.base import ProviderError

# Error codes that mean "not accepted, try again later" (throttling, the service's own faults).
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "LimitExceededException",
        "KMSThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "InternalErrorException",
        "InternalServerError",
    }
)


@contextmanager
def provider_errors(label: str) -> Iterator[None]:
    """Turn botocore failures of a send into ProviderError: throttling and 5xx are retryable, a refused
    connection is retryable, a read timeout is ambiguous (the message may have been accepted)."""
    try:
        yield
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        retryable = code in RETRYABLE_CODES or status >= 500
        raise ProviderError(f"{label} {code}: {err.response.get('Error', {}).get('Message', '')}", retryable=retryable) from err
    except ReadTimeoutError as err:
        raise ProviderError(f"{label} read timeout: {err}", retryable=False, ambiguous=True) from err
    except BotoConnectionError as err:
        raise ProviderError(f"{label} unreachable: {err}", retryable=True) from err
