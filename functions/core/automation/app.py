"""AutomationQueue consumer: runs each messaging automation job (a bulk message's batch, an operation's step, an
announcer's event, a summary rebuild) through the module its kind names in ``parley.domain.automation_jobs``;
partial batch failures."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain import automation_jobs, dead_letters

logger = Logger(service="automation")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb", "sqs", "s3"))


def record_handler(record: SQSRecord) -> str:
    with dead_letters.noting("automation", record):  # on its last receive, why it failed (dlq show)
        job = automation_jobs.parse(record.body)
        automation_jobs.handle(job)
    logger.info("automation job", extra={"tenant_id": job.tenant_id, "kind": job.kind, "job_id": job.id})
    return job.kind


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
