"""SES sender identities (SES v2 ``CreateEmailIdentity``)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley.dal.aws import client


def create_domain_identity(domain: str) -> bool:
    """Create the SES identity of a sender domain; False if it exists already.

    On AWS this starts the domain's verification (DKIM records to publish); the local emulator treats
    the identity as verified at once, so a tenant sending from that domain can send locally.
    """
    try:
        client("sesv2").create_email_identity(EmailIdentity=domain.lower())
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "AlreadyExistsException":
            return False
        raise
    return True
