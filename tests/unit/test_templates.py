"""Intrinsic-function resolution of the local stack's template reader, against a fake creator."""

import textwrap

import pytest

from parley_local.templates import ACCOUNT, REGION, Template, TemplateError

TEMPLATE = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      Stage: {Type: String, Default: v1}
      Env: {Type: String}
    Conditions:
      IsProd: !Equals [!Ref Env, prod]
      NotProd: !Not [!Equals [!Ref Env, prod]]
      Both: !And [!Condition NotProd, !Equals [!Ref Stage, v1]]
    Resources:
      Queue:
        Type: AWS::SQS::Queue
      Dlq:
        Type: AWS::SQS::Queue
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Environment:
            Variables:
              QUEUE_URL: !Ref Queue
              QUEUE_ARN: !GetAtt Queue.Arn
              DLQ_ARN: !GetAtt [Dlq, Arn]
              STACK: !Ref AWS::StackName
              WHERE: !Sub "${AWS::Region}/${AWS::AccountId}/${Stage}"
              SUB_ATT: !Sub "arn is ${Queue.Arn}"
              SUB_VARS: !Sub ["${Name}-${Stage}", {Name: !GetAtt Queue.QueueName}]
              SUB_LITERAL: !Sub "keep ${!Literal}"
              JOINED: !Join [",", [a, !Ref Stage, !GetAtt Queue.QueueName]]
              MODE: !If [IsProd, production, !Sub "dev-${Stage}"]
              BOTH: !If [Both, both-true, both-false]
              PICK: !Select [1, !Split ["/", "x/y/z"]]
              NOTHING: !Ref AWS::NoValue
      Cycle1:
        Type: Custom::X
        Properties: {Other: !Ref Cycle2}
      Cycle2:
        Type: Custom::X
        Properties: {Other: !Ref Cycle1}
    """
)


class FakeCreator:
    def __init__(self):
        self.created: list[str] = []

    def __call__(self, tpl, logical_id, resource):
        self.created.append(logical_id)
        if resource["Type"].startswith("Custom::"):
            tpl.resolve(resource["Properties"])  # resolving a reference creates the referenced resource first
        name = tpl.physical_name(logical_id)
        return {"Ref": f"https://sqs/{name}", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", "QueueName": name}


@pytest.fixture
def template(tmp_path):
    def build(**params):
        path = tmp_path / "template.yaml"
        path.write_text(TEMPLATE)
        creator = FakeCreator()
        return Template(path, "root", params, creator, "stk"), creator

    return build


def _env(tpl):
    return tpl.resolve(tpl.resources["Fn"]["Properties"]["Environment"]["Variables"])


def test_ref_getatt_and_pseudo_parameters(template):
    tpl, creator = template(Env="dev")
    env = _env(tpl)
    assert env["QUEUE_URL"] == "https://sqs/stk-Queue"
    assert env["QUEUE_ARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:stk-Queue"
    assert env["DLQ_ARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:stk-Dlq"
    assert env["STACK"] == "stk"
    assert env["NOTHING"] is None
    # each resource is created once, however often it is referenced
    assert sorted(creator.created) == ["Dlq", "Queue"]


def test_sub_forms(template):
    tpl, _ = template(Env="dev", Stage="v2")
    env = _env(tpl)
    assert env["WHERE"] == f"{REGION}/{ACCOUNT}/v2"
    assert env["SUB_ATT"] == f"arn is arn:aws:sqs:{REGION}:{ACCOUNT}:stk-Queue"
    assert env["SUB_VARS"] == "stk-Queue-v2"


def test_join_select_split(template):
    tpl, _ = template(Env="dev")
    env = _env(tpl)
    assert env["JOINED"] == "a,v1,stk-Queue"
    assert env["PICK"] == "y"


@pytest.mark.parametrize(("env_name", "mode", "both"), [("prod", "production", "both-false"), ("dev", "dev-v1", "both-true")])
def test_if_equals_not_and_condition(template, env_name, mode, both):
    tpl, _ = template(Env=env_name)
    env = _env(tpl)
    assert env["MODE"] == mode
    assert env["BOTH"] == both
    assert tpl.condition("IsProd") is (env_name == "prod")
    assert tpl.condition("NotProd") is (env_name != "prod")


def test_parameters_default_and_missing(template):
    tpl, _ = template(Env="dev")
    assert tpl.params == {"Stage": "v1", "Env": "dev"}
    with pytest.raises(TemplateError, match="Env has no value"):
        template()


def test_parameter_overrides_are_checked_as_cloudformation_checks_them(tmp_path):
    """``python -m parley_local --parameter-overrides``: a value the declaration refuses, or a name it does not
    declare, stops the stack instead of running it with a value a deploy would refuse."""
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters:\n"
        "  Ttl: {Type: Number, Default: 30, MinValue: 0, MaxValue: 60}\n"
        "  Mode: {Type: String, Default: a, AllowedValues: [a, b]}\n"
        "Resources: {}\n"
    )

    def build(**params):
        return Template(path, "root", params, FakeCreator(), "stk")

    assert build().params == {"Ttl": "30", "Mode": "a"}
    assert build(Ttl="5", Mode="b").params == {"Ttl": "5", "Mode": "b"}
    assert build(Ttl="0").params["Ttl"] == "0"
    for params, message in (
        ({"Ttl": "61"}, "above its MaxValue 60"),
        ({"Ttl": "-1"}, "below its MinValue 0"),
        ({"Ttl": "soon"}, "not a number"),
        ({"Mode": "c"}, "not one of"),
        ({"Tll": "5"}, "no parameter Tll"),
    ):
        with pytest.raises(TemplateError, match=message):
            build(**params)


def test_unknown_resource_attribute_and_cycle_are_errors(template):
    tpl, _ = template(Env="dev")
    with pytest.raises(TemplateError, match="no resource Missing"):
        tpl.resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError, match="has no attribute Nope"):
        tpl.resolve({"Fn::GetAtt": ["Queue", "Nope"]})
    with pytest.raises(TemplateError, match="circular reference"):
        tpl.physical("Cycle1")
    with pytest.raises(TemplateError, match="not supported"):
        tpl.resolve({"Fn::FindInMap": ["M", "k", "v"]})


def test_sub_escaped_literal(template):
    tpl, _ = template(Env="dev")
    assert _env(tpl)["SUB_LITERAL"] == "keep ${Literal}"


ALIASED = textwrap.dedent(
    """\
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      SnapStart: {Type: String, Default: PublishedVersions}
    Globals:
      Function:
        AutoPublishAlias: live
        SnapStart:
          ApplyOn: !Ref SnapStart
    Resources:
      Authorizer:
        Type: AWS::Serverless::Function
      Own:
        Type: AWS::Serverless::Function
        Properties:
          AutoPublishAlias: blue
      Queue:
        Type: AWS::SQS::Queue
      User:
        Type: Custom::X
        Properties:
          AuthorizerArn: !Ref Authorizer.Alias
          OwnArn: !Ref Own.Alias
    """
)


def test_ref_function_alias_is_the_qualified_arn(tmp_path):
    """``!Ref Fn.Alias`` (SAM's AutoPublishAlias alias, from Globals or the function's own) resolves locally to the
    function's ARN qualified by the alias name; SnapStart is a property the local stack does not read."""
    path = tmp_path / "template.yaml"
    path.write_text(ALIASED)
    tpl = Template(path, "root", {}, FakeCreator(), "stk")
    props = tpl.resolve(tpl.resources["User"]["Properties"])
    assert props["AuthorizerArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:stk-Authorizer:live"  # FakeCreator's Arn, qualified
    assert props["OwnArn"].endswith("stk-Own:blue")
    with pytest.raises(TemplateError, match="AutoPublishAlias"):
        tpl.resolve({"Ref": "Queue.Alias"})


def test_a_qualified_function_arn_finds_the_function():
    from parley_local.stack import Stack

    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stk-Fn"
    stack = Stack(root=None)  # type: ignore[arg-type]
    stack.functions[arn] = fn = object()  # type: ignore[assignment]
    assert stack.by_arn(arn) is fn
    assert stack.by_arn(arn + ":live") is fn
    assert stack.by_arn(arn + ":3") is fn
    assert stack.by_arn(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other:live") is None
    assert stack.by_arn(f"arn:aws:sqs:{REGION}:{ACCOUNT}:stk-Fn") is None
