"""What the smoke test (``parley.smoke``) needs from the data layer, on in-process moto: a deployed stack's outputs
(CloudFormation DescribeStacks). Its clean-up (revoke the key, disable the tenant) is the key lifecycle's,
tested in test_key_lifecycle.py."""

from __future__ import annotations

import json

import pytest

OUTPUTS = {
    "CandidateApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/v1",
    "CrmApiUrl": "https://def456.execute-api.us-east-1.amazonaws.com/v1/",
    "TableName": "parley-Table-XYZ",
}


def _stack(name: str, outputs: dict[str, str]) -> None:
    import boto3

    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_outputs_of_a_deployed_stack_and_a_missing_one(aws):
    from parley.dal import stack_outputs

    _stack("parley-prod", OUTPUTS)
    assert stack_outputs.outputs("parley-prod") == OUTPUTS
    with pytest.raises(stack_outputs.StackNotFound, match="nope"):
        stack_outputs.outputs("nope")


def test_the_smoke_test_targets_a_deployed_stack_by_its_outputs(aws, monkeypatch):
    from parley import smoke
    from parley.settings import get_settings

    monkeypatch.delenv("TABLE_NAME")
    _stack("parley-prod", OUTPUTS)
    target = smoke.deployed("parley-prod")
    assert (target.candidate_api, target.crm_api, target.table) == (
        OUTPUTS["CandidateApiUrl"],
        OUTPUTS["CrmApiUrl"].rstrip("/"),
        "parley-Table-XYZ",
    )
    assert target.local is None and "parley-prod" in target.description
    assert get_settings().table_name == "parley-Table-XYZ"  # the admin code writes the tenant there

    _stack("not-parley", {"Something": "else"})
    with pytest.raises(smoke.TargetError, match="CandidateApiUrl, CrmApiUrl, TableName"):
        smoke.deployed("not-parley")
    with pytest.raises(smoke.TargetError, match="cannot describe stack 'gone'"):
        smoke.deployed("gone")
