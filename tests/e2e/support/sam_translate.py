"""Translates template.yaml with SAM's own translator (the one the pinned SAM CLI ships, in .venv), as
CloudFormation's AWS::Serverless transform does at deploy time, for the parameter values given as JSON on the
command line; prints the translated template as JSON. Each function's code is given an S3 location, as
`sam package` leaves it."""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no AWS managed policy, so the translator needs none of IAM's."""

    def load(self):
        return {}


def main():
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    template_path, parameters = sys.argv[1], json.loads(sys.argv[2])
    with open(template_path, encoding="utf-8") as handle:
        document = yaml_parse(handle.read())
    for name, resource in document["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
    json.dump(transform(document, parameters, NoManagedPolicies()), sys.stdout)


if __name__ == "__main__":
    main()
