"""Seed 002 (ATS) response shape: ``GET /company/{companyID}/applicant/{applicantID}/messages``.

A bare JSON array of messages. ``id``, ``created_by``, ``created_at``, ``auto``, ``delivered`` and
``deliver_at`` are always present; ``mail``, ``author``, ``candidate``, ``attachments`` and ``replied``
only when named in ``fields``. The example's ``id`` (a string) and ``deliver_at`` win over the table's
``integer`` and ``delivered_at``.
"""

from parley.models.base import Model

FIELDS = ("author", "replied", "mail", "attachments", "candidate")


class AtsMail(Model):
    subject: str
    text: str
    html: str
    status: str | None = None  # the provider's delivery state when one was reported, else null


class AtsAuthor(Model):
    firstname: str = ""
    lastname: str = ""


class AtsCandidate(Model):
    firstname: str = ""
    lastname: str = ""
    email: str = ""


class AtsMessage(Model):
    id: str
    created_by: int | None
    created_at: str
    auto: bool
    delivered: bool
    deliver_at: str | None
    mail: AtsMail | None = None
    author: AtsAuthor | None = None
    candidate: AtsCandidate | None = None
    attachments: list[dict] | None = None
    replied: bool | None = None

    def shown(self) -> dict:
        """The JSON object: the always-present fields, plus the expansions that were set."""
        return self.model_dump(mode="json", exclude_unset=True)


class AtsError(Model):
    status: int
    message: str
