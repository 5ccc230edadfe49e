"""A deployed stack's outputs (CloudFormation ``DescribeStacks``): what the operator tools need to find it."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley.dal.aws import client


class StackNotFound(Exception):
    """No such stack in this account and region (or no permission to describe it)."""


def outputs(stack_name: str) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of the stack (the root stack's Outputs of template.yaml)."""
    try:
        stacks = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as err:
        raise StackNotFound(f"cannot describe stack {stack_name!r}: {err.response.get('Error', {}).get('Message', err)}") from None
    if not stacks:
        raise StackNotFound(f"no stack {stack_name!r}")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}
