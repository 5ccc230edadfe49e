"""Lambda REQUEST authorizer: ``Authorization: Bearer <key>`` (or the bare ``<key>``), or ``Bearer <user token>`` (a JWT
of a tenant's identity provider, ``parley.domain.user_tokens``) → the tenant, for every REST API.

An unknown, revoked or expired key, a key of a disabled tenant, or a user token that fails verification (signature,
issuer, audience, expiry, algorithm, kid) raises ``Unauthorized`` (API Gateway answers 401 through the UNAUTHORIZED
gateway response, in the API family's error shape). A good credential gets an Allow policy for the whole API (so API
Gateway's authorizer cache, ``AuthorizerCacheSeconds``, keyed by the exact Authorization value, serves every route)
with the tenant, the credential kind, a user token's ``sub`` (``userId``), the key's id and the expiry in the
context; a key's ``last_used_at`` is noted (at most once per ``auth.LAST_USED_EVERY``).
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import snapstart
from parley.domain.auth import authorize
from parley.models.api_keys import ApiKey
from parley.models.domain import Tenant

logger = Logger(service="authorizer")
snapstart.register(services=("dynamodb",), models=(Tenant, ApiKey))  # SnapStart: primed before the snapshot


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)  # the request the authorizer runs for
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = APIGatewayAuthorizerRequestEvent(event)
    grant = authorize(request.headers.get("authorization"))
    if grant is None:
        raise Exception("Unauthorized")  # API Gateway's contract: this exact message → 401
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=grant.caller.tenant_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=grant.authorizer_context(),
    )
    policy.allow_all_routes()
    return policy.asdict()
