"""ThumbnailsQueue consumer: the thumbnail of an image attached to a channel message (docs/courier.md "Attachments and
bookmarks"). process-upload copies a checked file to ``messaging-attachments/<t>/<id>``; the BodyBucket's
ObjectCreated notification for that prefix is the job. An image whose item says ``thumbnail: pending`` is decoded
(Pillow, from the ImagingLayer of this function only: no API function imports an imaging library), reduced to fit
``SIZE`` (aspect kept, first frame of a GIF, EXIF orientation applied), stored as a JPEG and the item marked ready; an
image Pillow cannot read, or one larger than ``MAX_PIXELS``, is marked failed. Anything else is skipped. A job that
arrives before process-upload marked the item (it copies first) is retried; partial batch failures."""

import io
import time

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from PIL import Image, ImageOps, UnidentifiedImageError  # ImagingLayer: this function's only (imported in the SnapStart snapshot)

from parley import snapstart
from parley.domain import channel_attachments, dead_letters

logger = Logger(service="thumbnails")
processor = BatchProcessor(event_type=EventType.SQS)
snapstart.register(services=("dynamodb", "s3"))

SIZE = (320, 320)
MAX_PIXELS = 40_000_000  # a decompression bomb is refused (Pillow raises beyond 2x its own limit; this is ours)
QUALITY = 80


def make_thumbnail(data: bytes) -> bytes | None:
    """A JPEG of at most ``SIZE`` from the image's bytes, or None when they cannot be read as an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.seek(0)
            frame = ImageOps.exif_transpose(image) or image
            frame = frame.convert("RGBA") if frame.mode in ("P", "LA", "PA") else frame
            if frame.mode == "RGBA":  # transparency over white (JPEG has none)
                background = Image.new("RGB", frame.size, (255, 255, 255))
                background.paste(frame, mask=frame.getchannel("A"))
                frame = background
            frame = frame.convert("RGB")
            frame.thumbnail(SIZE)
            out = io.BytesIO()
            frame.save(out, format="JPEG", quality=QUALITY, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None


NOT_READY_WAIT_SECONDS = (0.25, 0.5, 1, 1, 2, 2, 3)  # process-upload marks the item right after its copy


def _job(key: str) -> tuple[str, str] | None:
    """``thumbnail_job``, waiting a few seconds when the notification beat process-upload's mark (it copies first, then
    marks): the common race costs a moment, not the queue's visibility timeout (180 s). Still not ready after that
    (process-upload failed between its copy and its mark): ``NotReadyYet``, and the job is retried from the queue."""
    for pause in NOT_READY_WAIT_SECONDS:
        try:
            return channel_attachments.thumbnail_job(key)
        except channel_attachments.NotReadyYet:
            time.sleep(pause)
    return channel_attachments.thumbnail_job(key)


def record_handler(record: SQSRecord) -> list[str]:
    done = []
    with dead_letters.noting("thumbnails", record):  # on its last receive, why it failed (dlq show)
        for key in channel_attachments.thumbnail_keys(record.body):
            job = _job(key)
            if job is None:
                continue
            tenant_id, attachment_id = job
            _item, data = channel_attachments.read_original(tenant_id, attachment_id)
            state = channel_attachments.save_thumbnail(tenant_id, attachment_id, make_thumbnail(data))
            logger.info("thumbnail", extra={"tenant_id": tenant_id, "attachment_id": attachment_id, "state": state})
            done.append(f"{attachment_id}:{state}")
    return done


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
