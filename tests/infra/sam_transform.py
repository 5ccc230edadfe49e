"""Run by the SAM CLI's interpreter (.venv-sam): transform each SAM template to plain CloudFormation
and print, per template, the resource types it expands to and the transformed resources themselves. The infra
tests read this JSON."""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samcli.yamlhelper import yaml_parse
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    def load(self):
        return {}


out = {}
for path in sys.argv[1:]:
    with open(path) as f:
        sam = yaml_parse(f.read())
    # What `sam package` does: local code paths become S3 locations.
    for res in (sam.get("Resources") or {}).values():
        props = res.setdefault("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://bucket/code.zip"
        elif res["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://bucket/layer.zip"
        elif res["Type"] == "AWS::Serverless::Application":
            props["Location"] = "https://bucket.s3.amazonaws.com/nested.yaml"
    params = {name: decl.get("Default", "x") for name, decl in (sam.get("Parameters") or {}).items()}
    try:
        cfn = transform(sam, params, NoManagedPolicies(), Parser())
    except InvalidDocumentException as err:
        out[path] = {"error": "; ".join(str(e) for e in err.causes)}
        continue
    out[path] = {"types": [r["Type"] for r in cfn["Resources"].values()], "resources": cfn["Resources"]}
print(json.dumps(out))
