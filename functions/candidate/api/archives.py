"""The candidate API: archives (seed 000's "transactional" history, one route per channel).

- GET /communications/email/v1/transactional/email — the distinct candidates a tenant exchanged email with in a time
  window.
- GET /communications/sms/v1/transactional/sms — the same for SMS.
"""

from parley.api import caller
from parley.api.docs import transactional_doc
from parley.api.endpoint import Api
from parley.api.params import Count, FromTime, ToTime
from parley.domain import transactional
from parley.models.profiles import TransactionalEmailResponse, TransactionalSmsResponse

api = Api("candidate")


@api.get("/communications/email/v1/transactional/email", tags=["Email Communications"], **transactional_doc("email"))
def email_transactional(fromTime: FromTime, toTime: ToTime, pageLimit: Count = 10, offset: Count = 0) -> TransactionalEmailResponse:
    return transactional.email_contacts(caller(api), fromTime, toTime, pageLimit, offset)


@api.get("/communications/sms/v1/transactional/sms", tags=["SMS Communications"], **transactional_doc("sms"))
def sms_transactional(fromTime: FromTime, toTime: ToTime, pageLimit: Count = 10, offset: Count = 0) -> TransactionalSmsResponse:
    return transactional.sms_contacts(caller(api), fromTime, toTime, pageLimit, offset)
