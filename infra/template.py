"""Read ``infra/template.yaml``, translate it offline, and make the copy that moto can deploy.

- ``load()`` reads the SAM template with CloudFormation's short tags (``!Ref``, ``!GetAtt``, ``!Sub``…)
  turned into their long form, as CloudFormation itself sees them;
- ``translate()`` runs AWS's own SAM translator (``samtranslator``) offline: no AWS call, no credentials,
  a fixed region, an empty managed-policy map (the template names no managed policy by name); local
  ``CodeUri`` paths become S3 locations, as ``sam package`` would make them;
- ``for_moto()`` drops from a translated template what moto's CloudFormation cannot create (see
  ``MOTO_UNSUPPORTED``), for the deployment test.

``python -m infra.template --out build/template.json`` writes the translated template (checkov scans it).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
TRANSLATE_REGION = "us-east-1"

# Resource types moto's CloudFormation (5.x) cannot create: it skips them with a warning, and a ``Ref``
# or ``GetAtt`` on them then fails the stack. They are removed only from the copy deployed into moto
# (``for_moto``), and their settings are asserted on the template itself (tests/unit/test_infra_template.py).
MOTO_UNSUPPORTED = frozenset(
    {
        "AWS::Lambda::Url",  # the Function URL: its URL gets a stand-in in the SlackRequestUrl output
        "AWS::SecretsManager::Secret",  # the deployment test creates both secrets in moto and passes their ARNs
        "AWS::SNS::TopicPolicy",  # only CloudWatch of this account may publish to the alarm topic
        "AWS::SNS::Subscription",  # the alarm function's and the e-mail subscriptions to the alarm topic
        "AWS::Chatbot::SlackChannelConfiguration",  # Amazon Q posting the alarms (AmazonQSlackWorkspaceId only)
        "AWS::CloudWatch::Alarm",  # alarms: metric, threshold and topic are asserted on the template
        "AWS::ApiGatewayV2::Api",  # the HTTP API front door (FrontDoor=HttpApi only)
        "AWS::ApiGatewayV2::Stage",
    }
)


# ----- loading -------------------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus CloudFormation's short-form tags."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"  # !Condition X is {"Condition": X}
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def loads(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    if not isinstance(data, dict):
        raise ValueError("a template is a mapping")
    return data


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as CloudFormation reads it (a fresh copy each call: callers may change it)."""
    return copy.deepcopy(_load_cached(path.resolve(), path.stat().st_mtime_ns))


@cache
def _load_cached(path: Path, _mtime_ns: int) -> dict[str, Any]:
    return loads(path.read_text(encoding="utf-8"))


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    found = template.get("Resources", {}).get(logical_id)
    if not isinstance(found, dict):
        raise KeyError(f"no resource {logical_id} in the template")
    return found


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    props = resource(template, logical_id).get("Properties", {})
    return props if isinstance(props, dict) else {}


def resources_of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {
        name: res
        for name, res in template.get("Resources", {}).items()
        if isinstance(res, dict) and res.get("Type") == type_name
    }


# ----- translating ---------------------------------------------------------------------------------------


def translate(
    template: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    *,
    code_bucket: str = "slackbot-artifacts",
    region: str = TRANSLATE_REGION,
) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, translated offline by ``samtranslator``.

    Each function's local ``CodeUri`` (``../dist/ingest.zip``) becomes ``s3://{code_bucket}/ingest.zip``.
    Resource ``Metadata`` (checkov's skips) is carried over to what each SAM resource becomes.
    """
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template if template is not None else load())
    for res in sam.get("Resources", {}).values():
        props = res.get("Properties", {}) if isinstance(res, dict) else {}
        code_uri = props.get("CodeUri")
        is_function = res.get("Type") == "AWS::Serverless::Function"
        if is_function and isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            props["CodeUri"] = f"s3://{code_bucket}/{Path(code_uri).name}"
    # A session that knows its region and nothing else: the translator asks it for the region and
    # partition only (pseudo parameters), never for credentials.
    session = boto3.session.Session(region_name=region)
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    translated = translator.translate(
        sam_template=sam,
        parameter_values=dict(parameters or {}),
        passthrough_metadata=True,
        get_managed_policy_map=dict,
    )
    if not isinstance(translated, dict):
        raise TypeError("the SAM translator returned no template")
    return translated


def for_moto(
    translated: dict[str, Any],
    stand_ins: dict[str, str] | None = None,
    unsupported: Iterable[str] = MOTO_UNSUPPORTED,
) -> dict[str, Any]:
    """A copy of a translated template without the resources moto cannot create.

    A reference to a removed resource (``Ref X``, ``GetAtt X.Attr``, ``${X}`` or ``${X.Attr}`` in a
    ``Sub``) is replaced by its value in ``stand_ins`` (keyed ``X`` or ``X.Attr``), for example the ARN
    of a secret the caller created in moto itself. A reference without a stand-in removes the output or
    the conditional resource that holds it, and is an error anywhere else. ``DependsOn`` entries on
    removed resources are dropped.
    """
    values = dict(stand_ins or {})
    drop = set(unsupported)
    out = copy.deepcopy(translated)
    resources = out.get("Resources", {})
    removed = {name for name, res in resources.items() if res.get("Type") in drop}
    for name in removed:
        del resources[name]
    for res in resources.values():
        depends = res.get("DependsOn")
        if isinstance(depends, str):
            depends = [depends]
        if isinstance(depends, list):
            still = [d for d in depends if d not in removed]
            if still:
                res["DependsOn"] = still
            else:
                res.pop("DependsOn", None)
    outputs = out.get("Outputs", {})
    for key in list(outputs):
        try:
            outputs[key] = _stand_in(outputs[key], removed, values)
        except KeyError:
            del outputs[key]
    # A conditional resource on a removed one without a stand-in (the HTTP API's permission when the
    # HTTP API is removed) goes too; an unconditional one is a mistake in the stand-ins: KeyError.
    kept: dict[str, Any] = {}
    for name, res in resources.items():
        try:
            kept[name] = _stand_in(res, removed, values)
        except KeyError:
            if "Condition" not in res:
                raise
    out["Resources"] = kept
    return out


def _stand_in(value: Any, removed: set[str], values: dict[str, str]) -> Any:
    """``value`` with every reference to a removed resource replaced by its stand-in (KeyError if none)."""
    if isinstance(value, list):
        return [_stand_in(v, removed, values) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and arg in removed:
            return values[arg]
        if fn == "Fn::GetAtt" and isinstance(arg, list) and arg and arg[0] in removed:
            return values[".".join(arg)]
        if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            # A branch on a removed resource without a stand-in becomes "no value", as its removal would.
            return {fn: [arg[0], *(_branch(branch, removed, values) for branch in arg[1:])]}
        if fn == "Fn::Sub":
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, None)
            if isinstance(text, str):
                text = _substitute(text, removed, values)
                return {fn: [text, _stand_in(variables, removed, values)] if variables is not None else text}
    return {k: _stand_in(v, removed, values) for k, v in value.items()}


def _branch(value: Any, removed: set[str], values: dict[str, str]) -> Any:
    try:
        return _stand_in(value, removed, values)
    except KeyError:
        return {"Ref": "AWS::NoValue"}


def _substitute(text: str, removed: set[str], values: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.split(".", 1)[0] not in removed:
            return match.group(0)
        return values[name]

    return re.sub(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)\}", replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.template",
        description="translate infra/template.yaml offline (SAM → CloudFormation)",
    )
    parser.add_argument("--out", type=Path, help="write the translated template here (default: stdout)")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="a template parameter"
    )
    args = parser.parse_args(argv)
    parameters = dict(p.split("=", 1) for p in args.parameter)
    text = json.dumps(translate(parameters=parameters), indent=2, sort_keys=True) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
