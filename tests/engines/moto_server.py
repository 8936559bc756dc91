"""moto_server, with the two Lambda resources of the pipeline stack that moto's CloudFormation
skips: AWS::Lambda::Alias (not modelled at all: a stack "creates" it without a trace, and the
event source mapping that invokes it then fails with "Function not found ...:live") and the
update of AWS::Lambda::Version (moto publishes a version on create only, and its Ref is not the
version ARN). Started by tests/suite/support/emulator.rs as `python moto_server.py <moto_server args>`.

What this adds is what CloudFormation does with these resources on AWS, no more:
- a version's Ref is its ARN and `Fn::GetAtt Version` its number; an update publishes a new
  version (AWS replaces the resource: every property is immutable), and is refused with 409,
  as Lambda refuses it, when the function's code and versioned settings are those of its latest
  version ("A version for this Lambda function exists ... Modify the function to create a new
  version"): a version resource replaced for nothing fails the stack update;
- an alias is created, pointed at a new version, and deleted with its stack. On AWS a
  stage's alias is moved by CodeDeploy (the CodeDeployLambdaAliasUpdate update policy), which
  moto does not run; moto re-evaluates a resource only when its own template text changes, so
  the new version moves the aliases that pointed at the old one, as a finished all-at-once
  CodeDeploy deployment would. The gradual shift itself is tested against recorded CodeDeploy
  answers (tests/suite/deploy_shift.rs), never here.
- a function keeps the settings CloudFormation gives it that moto's own model of
  AWS::Lambda::Function drops (Architectures, KmsKeyArn, TracingConfig, LoggingConfig; and a
  MemorySize or Timeout written as a string is a number, as CloudFormation converts it), on
  create and on update, and GetFunctionConfiguration answers them (LoggingConfig with Lambda's
  default LogFormat, Text), as Lambda does: mgrid decides whether a deploy publishes a version
  by comparing the configuration it would give the function with the live version's.
CodeDeploy resources stay unmodelled: moto skips them, as it did before.

And one change of cost, not of behaviour: moto's SQS builds the queue's whole attribute map to
read one setting (when it validates a message sent, twice in a batch; adds one to a queue;
checks one received against the retention period), and the map counts the queue's messages by
state, reading the clock (two datetimes) twice per message. A batch of ten on a queue of a few
hundred messages took 100 to 500 ms of the emulator's one Python thread, growing with the
backlog: benchmarks measured moto's bookkeeping, not the clients (a client's requests waited
behind each other's counting). SQS's cost per request does not grow with the queue's depth.
Here the counts and the list of visible messages read the clock once each, and test each
message's timestamps as moto does. And a long poll on a FIFO queue whose visible messages all
belong to groups in flight spun for its whole wait (moto's wait ends as soon as any message is
visible, and the receive then finds none it may deliver and waits again): it now looks again
every 20 ms, or as soon as a message is added, until its wait is over, as SQS's long poll
costs its other clients nothing.
"""

import re
import sys
from typing import Any

import json

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction, LambdaVersion, lambda_backends
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel


def _backend(account_id: str, region_name: str):
    return lambda_backends[account_id][region_name]


def _version_ref(self) -> str:
    return self.arn


def _version_attr(self, name: str) -> Any:
    if name == "Version":
        return self.version
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


# What a version snapshots and PublishVersion compares: the code and the settings it runs with
# (not the description, the tags, LastModified or the revision). moto's own check is a flag that
# any stack update of the function sets, a tag-only one too.
_VERSIONED = (
    "CodeSha256",
    "Handler",
    "MemorySize",
    "Role",
    "Runtime",
    "Timeout",
    "VpcConfig",
    "Layers",
    "TracingConfig",
    "Architectures",
    "EphemeralStorage",
    "Environment",
    "PackageType",
)


def _snapshot(function) -> str:
    config = function.get_configuration()
    return json.dumps({key: config.get(key) for key in _VERSIONED}, sort_keys=True, default=str)


class VersionExists(LambdaClientError):
    code = 409

    def __init__(self, version) -> None:
        super().__init__(
            "ResourceConflictException",
            f"A version for this Lambda function exists ( {version} ). "
            "Modify the function to create a new version.",
        )


def _publish(cls, cloudformation_json, account_id, region_name):
    properties = cloudformation_json["Properties"]
    backend = _backend(account_id, region_name)
    latest = backend.get_function(properties["FunctionName"])
    snapshot = _snapshot(latest)
    published = backend._lambdas._functions[latest.function_name]["versions"]
    if published and getattr(published[-1], "mgrid_snapshot", None) == snapshot:
        raise VersionExists(published[-1].version)
    latest.code_or_config_updated = True
    function = backend.publish_version(
        properties["FunctionName"], properties.get("Description", "")
    )
    function.mgrid_snapshot = snapshot
    # moto's copy of the function for the version lacks the Docker handle its invoke looks
    # for: without it an invocation through the alias fails with an AttributeError (a 500 to
    # the SendMessage that triggered the event source) instead of moto's "no Docker" error.
    if not hasattr(function, "_DockerModel__docker_client"):
        function._DockerModel__docker_client = None
    version = cls({"Version": function.version})
    version.arn = function.function_arn
    version.function_name = function.function_name
    return version


def _version_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    return _publish(cls, cloudformation_json, account_id, region_name)


def _version_update(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    new = _publish(cls, cloudformation_json, account_id, region_name)
    backend = _backend(account_id, region_name)
    aliases = backend._lambdas._get_function_aliases(new.function_name)
    for alias in aliases.values():
        if str(alias.function_version) == str(original_resource.version):
            alias.update(None, str(new.version), None)
    return new


def _version_delete(cls, resource_name, cloudformation_json, account_id, region_name):
    # CloudFormation deletes the stack's function, and its versions with it.
    return None


LambdaVersion.physical_resource_id = property(_version_ref)
LambdaVersion.get_cfn_attribute = _version_attr
LambdaVersion.has_cfn_attr = classmethod(lambda cls, attr: attr == "Version")
LambdaVersion.create_from_cloudformation_json = classmethod(_version_create)
LambdaVersion.update_from_cloudformation_json = classmethod(_version_update)
LambdaVersion.delete_from_cloudformation_json = classmethod(_version_delete)


class LambdaAliasResource(CloudFormationModel):
    """AWS::Lambda::Alias: Ref is the alias ARN, as on AWS."""

    # moto's model metaclass reads the service from the module name.
    __module__ = "moto.awslambda.models"

    def __init__(self, alias, function_name: str):
        self.alias = alias
        self.function_name = function_name

    @property
    def physical_resource_id(self) -> str:
        return self.alias.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def _put(cls, method: str, cloudformation_json, account_id, region_name):
        properties = cloudformation_json["Properties"]
        backend = _backend(account_id, region_name)
        alias = getattr(backend, method)(
            properties["Name"],
            properties["FunctionName"],
            str(properties["FunctionVersion"]),
            properties.get("Description", ""),
            properties.get("RoutingConfig"),
        )
        return cls(alias, properties["FunctionName"])

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        return cls._put("create_alias", cloudformation_json, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        return cls._put("update_alias", cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(account_id, region_name).delete_alias(self.alias.name, self.function_name)
        except Exception:
            # The function went first (moto deletes in no set order), and the alias with it.
            pass


def _carry(function, properties) -> None:
    """The settings moto's CloudFormation model of a function drops, kept as Lambda keeps them;
    numbers as numbers (CloudFormation converts "30" to the property's type; moto keeps the
    string)."""
    for key, attribute in (("MemorySize", "memory_size"), ("Timeout", "timeout")):
        if key in properties:
            setattr(function, attribute, int(properties[key]))
    if "Architectures" in properties:
        function.architectures = properties["Architectures"]
    if "KmsKeyArn" in properties:
        function.kms_key_arn = properties["KmsKeyArn"]
    if "TracingConfig" in properties:
        function.tracing_config = properties["TracingConfig"]
    function.mgrid_logging_config = properties.get("LoggingConfig")


_moto_function_create = LambdaFunction.create_from_cloudformation_json.__func__
_moto_function_update = LambdaFunction.update_from_cloudformation_json.__func__
_moto_function_configuration = LambdaFunction.get_configuration


def _function_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    function = _moto_function_create(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    _carry(function, cloudformation_json["Properties"])
    return function


def _function_update(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    function = _moto_function_update(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    )
    _carry(function, cloudformation_json["Properties"])
    return function


def _function_configuration(self, on_create: bool = False):
    config = _moto_function_configuration(self, on_create)
    logging = getattr(self, "mgrid_logging_config", None)
    if logging:
        config["LoggingConfig"] = {"LogFormat": "Text", **logging}
    return config


LambdaFunction.create_from_cloudformation_json = classmethod(_function_create)
LambdaFunction.update_from_cloudformation_json = classmethod(_function_update)
LambdaFunction.get_configuration = _function_configuration

_moto_references = parsing.get_references_from_template


def _sub_names(template: Any) -> list:
    names = []
    if isinstance(template, dict):
        for key, value in template.items():
            if key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                names.extend(re.findall(r"\$\{([A-Za-z0-9:]+)", text))
            names.extend(_sub_names(value))
    elif isinstance(template, list):
        for value in template:
            names.extend(_sub_names(value))
    return names


def _references(template: Any) -> list:
    """moto's, plus the ${Name} of Fn::Sub: on AWS a parameter a resource names only inside a
    Sub changes that resource too (the processor version's description names the memory)."""
    return _moto_references(template) + _sub_names(template)


parsing.get_references_from_template = _references

# moto caches the list of CloudFormationModel subclasses on first use.
for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    cached.cache_clear()

from moto.core.utils import unix_time_millis
from moto.sqs.models import Queue

# moto's Message.visible is `now > visible_at` and Message.delayed `now < delayed_until`, each
# reading the clock itself: the same tests below, with the clock read once per look at the queue.


def _visible_messages(self) -> list:
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _not_visible(self) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def _delayed(self) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)




def _wait_for_messages(self, timeout: int) -> None:
    """Waits for a message to be added (moto's add_message notifies) or 20 ms, whichever comes
    first; the receive's own loop then looks again until its wait time is over. moto's waits
    until any message is visible, which on a FIFO queue whose visible messages all belong to
    groups in flight is at once: its long poll spun for the whole wait, holding the emulator's
    one Python thread and slowing every other request."""
    with self._messages_lock:
        self._messages_lock.wait(timeout=min(timeout, 0.02))


Queue.wait_for_messages = _wait_for_messages
Queue.messages = property(_visible_messages)
Queue.approximate_number_of_messages = property(lambda self: len(self.messages))
Queue.approximate_number_of_messages_not_visible = property(_not_visible)
Queue.approximate_number_of_messages_delayed = property(_delayed)

if __name__ == "__main__":
    from moto.server import main

    sys.argv[0] = "moto_server"
    sys.exit(main())
