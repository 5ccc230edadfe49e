"""Request parameters several endpoints declare the same way (the candidate API's windows, pages and recruiter)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from parley.models.numbers import Int32

Recruiter = Annotated[str, Header(min_length=1, max_length=128, description="The acting recruiter", examples=["recruiter-42"])]
FromTime = Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")]
ToTime = Annotated[str, Query(min_length=1, max_length=40, description="ISO-8601 date-time or epoch ms")]
Count = Annotated[Int32, Query()]  # a limit or an offset (each endpoint's own bounds are checked by its domain)
CandidateId = Annotated[str | None, Query(max_length=128)]

SAMPLE_WINDOW = {"fromTime": "2026-11-01T00:00:00Z", "toTime": "2026-11-30T23:59:59Z"}  # the sample requests' time window
