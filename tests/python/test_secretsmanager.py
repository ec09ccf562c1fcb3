"""Secrets Manager end to end with boto3, the AWS CLI and AWS's caching client: secrets named by
name, full ARN and partial ARN; values never in clear in the data directory; staging labels
moving on PutSecretValue, UpdateSecret and UpdateSecretVersionStage; ClientRequestToken
idempotency; deletion with a recovery window, restore, and forced deletion; listing filters;
GetRandomPassword; the operations Rampart does not serve answering NotImplemented by name."""

import base64
import datetime
import json
import uuid

import botocore.exceptions
import pytest
from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

from conftest import ACCOUNT_ID


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def unique(prefix="app"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def token():
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def sm(rampart):
    return rampart.client("secretsmanager")


def test_a_secret_is_named_by_name_full_arn_and_partial_arn(sm):
    name = unique()
    created = sm.create_secret(Name=name, SecretString="pw-1", Description="db password",
                               Tags=[{"Key": "team", "Value": "red"}])
    arn = created["ARN"]
    prefix = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:{name}-"
    assert arn.startswith(prefix) and len(arn) == len(prefix) + 6
    for secret_id in (name, arn, arn[:-7]):
        got = sm.get_secret_value(SecretId=secret_id)
        assert (got["SecretString"], got["VersionStages"], got["ARN"]) == ("pw-1", ["AWSCURRENT"], arn)
    described = sm.describe_secret(SecretId=name)
    assert described["Description"] == "db password"
    assert described["Tags"] == [{"Key": "team", "Value": "red"}]
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert "KmsKeyId" not in described  # the AWS managed key
    missing = error_of(lambda: sm.get_secret_value(SecretId=name + "-nope"))
    assert missing == {"Code": "ResourceNotFoundException",
                       "Message": "Secrets Manager can't find the specified secret."}
    exists = error_of(lambda: sm.create_secret(Name=name, SecretString="x"))
    assert exists["Code"] == "ResourceExistsException"


def test_binary_secrets_and_the_cli(rampart, sm):
    name = unique("bin")
    sm.create_secret(Name=name, SecretBinary=b"\x00\x01binary")
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == b"\x00\x01binary"
    cli = unique("cli")
    made = rampart.aws("secretsmanager", "create-secret", "--name", cli, "--secret-string", "from-cli")
    assert made.returncode == 0, made.stderr
    read = rampart.aws("secretsmanager", "get-secret-value", "--secret-id", cli)
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["SecretString"] == "from-cli"
    listed = rampart.aws("secretsmanager", "list-secrets", "--filters", f"Key=name,Values={cli}")
    assert [s["Name"] for s in json.loads(listed.stdout)["SecretList"]] == [cli]


def test_labels_move_as_aws_moves_them(sm):
    name = unique()
    v1 = token()
    sm.create_secret(Name=name, SecretString="one", ClientRequestToken=v1)
    v2 = token()
    put = sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=v2)
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {
        v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    # Same token, same value: nothing happens. Same token, another value: refused.
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=v2)
    refused = error_of(lambda: sm.put_secret_value(SecretId=name, SecretString="other",
                                                   ClientRequestToken=v2))
    assert refused == {"Code": "ResourceExistsException",
                       "Message": "You can't modify an existing version, you can only create a new version."}
    # A pending version leaves AWSCURRENT where it is; moving AWSCURRENT onto it makes the
    # old current AWSPREVIOUS and drops the label from v1.
    v3 = token()
    sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=v3,
                        VersionStages=["AWSPENDING"])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")["SecretString"] == "three"
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v3,
                                   RemoveFromVersionId=v2)
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=v3)
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {
        v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    # UpdateSecret with a value is a new AWSCURRENT too.
    v4 = token()
    assert sm.update_secret(SecretId=name, SecretString="four", ClientRequestToken=v4)["VersionId"] == v4
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "three"
    versions = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in versions} == {v1, v2, v3, v4}
    assert {v["VersionId"] for v in sm.list_secret_version_ids(SecretId=name)["Versions"]} == {v3, v4}
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "one"


def test_values_are_never_in_clear_in_the_data_directory(rampart, sm):
    marker = f"clear-text-{uuid.uuid4().hex}"
    name = unique()
    sm.create_secret(Name=name, SecretString=marker)
    sm.put_secret_value(SecretId=name, SecretString=marker + "-2")
    sm.get_secret_value(SecretId=name)
    sm.update_secret(SecretId=name, SecretBinary=marker.encode() + b"-3")
    for path in rampart.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert marker.encode() not in data, path
            assert base64.b64encode(marker.encode()) not in data, path


def test_deletion_waits_for_its_window_restores_and_forces(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="keep")
    bad = error_of(lambda: sm.delete_secret(SecretId=name, RecoveryWindowInDays=5))
    assert bad["Code"] == "InvalidParameterException"
    both = error_of(lambda: sm.delete_secret(SecretId=name, RecoveryWindowInDays=7,
                                             ForceDeleteWithoutRecovery=True))
    assert both["Code"] == "InvalidParameterException"
    deleted = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert (deleted["DeletionDate"] - sm.describe_secret(SecretId=name)["DeletedDate"]).days == 7
    marked = error_of(lambda: sm.get_secret_value(SecretId=name))
    assert marked == {"Code": "InvalidRequestException", "Message":
                      "You can't perform this operation on the secret because it was marked for deletion."}
    names = lambda **kw: [s["Name"] for s in sm.list_secrets(
        Filters=[{"Key": "name", "Values": [name]}], **kw)["SecretList"]]
    assert names() == []
    assert names(IncludePlannedDeletion=True) == [name]
    sm.restore_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "keep"
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert error_of(lambda: sm.describe_secret(SecretId=name))["Code"] == "ResourceNotFoundException"
    # The name is free again at once.
    sm.create_secret(Name=name, SecretString="again")


def test_list_secrets_filters_and_pages(sm):
    tag = uuid.uuid4().hex[:8]
    made = []
    for i in range(3):
        name = unique(f"list-{tag}")
        sm.create_secret(Name=name, SecretString="x", Description=f"Number {i}",
                         Tags=[{"Key": "batch", "Value": tag}])
        made.append(name)
    by_name = lambda **kw: sm.list_secrets(Filters=[{"Key": "name", "Values": [f"list-{tag}"]}],
                                          SortBy="name", **kw)
    assert [s["Name"] for s in by_name()["SecretList"]] == sorted(made)
    first = by_name(MaxResults=2)
    rest = by_name(MaxResults=2, NextToken=first["NextToken"])
    assert [s["Name"] for s in first["SecretList"] + rest["SecretList"]] == sorted(made)
    found = sm.list_secrets(Filters=[{"Key": "tag-value", "Values": [tag]},
                                     {"Key": "description", "Values": ["number 1"]}])
    assert [s["Name"] for s in found["SecretList"]] == [made[1]]
    paginated = sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "tag-value", "Values": [tag]}], PaginationConfig={"PageSize": 1})
    assert sorted(s["Name"] for page in paginated for s in page["SecretList"]) == sorted(made)


def test_batch_get_secret_value(sm):
    a, b = unique(), unique()
    sm.create_secret(Name=a, SecretString="A")
    sm.create_secret(Name=b, SecretString="B")
    got = sm.batch_get_secret_value(SecretIdList=[a, b, unique("missing")])
    assert sorted(v["SecretString"] for v in got["SecretValues"]) == ["A", "B"]
    assert [e["ErrorCode"] for e in got["Errors"]] == ["ResourceNotFoundException"]


def test_a_secret_keeps_at_most_a_hundred_versions_and_young_ones_are_not_removed(sm):
    name = unique("versions")
    sm.create_secret(Name=name, SecretString="v1")
    for n in range(2, 101):
        sm.put_secret_value(SecretId=name, SecretString=f"v{n}")
    # Every unlabelled version is less than 24 hours old: none can go, so a new one is refused.
    refused = error_of(lambda: sm.put_secret_value(SecretId=name, SecretString="v101"))
    assert refused["Code"] == "LimitExceededException"
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v100"
    versions = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True, MaxResults=100)
    assert len(versions["Versions"]) == 100 and "NextToken" not in versions


def test_reads_note_the_day_each_version_was_last_accessed(sm):
    name = unique()
    first = sm.create_secret(Name=name, SecretString="v1")["VersionId"]
    unread = sm.create_secret(Name=unique(), SecretString="x")["ARN"]
    second = sm.put_secret_value(SecretId=name, SecretString="v2")["VersionId"]
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=name)

    before = datetime.datetime.now(datetime.timezone.utc).date()
    sm.get_secret_value(SecretId=name, VersionId=first)
    after = datetime.datetime.now(datetime.timezone.utc).date()

    def accessed(version_id):
        versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
        return next(v for v in versions if v["VersionId"] == version_id).get("LastAccessedDate")

    # AWS keeps the date only: midnight UTC of the day of the read.
    day = accessed(first)
    assert day is not None and before <= day.astimezone(datetime.timezone.utc).date() <= after
    assert day.astimezone(datetime.timezone.utc).time() == datetime.time(0, 0)
    assert accessed(second) is None
    assert sm.describe_secret(SecretId=name)["LastAccessedDate"] == day
    # BatchGetSecretValue reads count too; a secret never read shows no date.
    sm.batch_get_secret_value(SecretIdList=[name])
    assert accessed(second) == day
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=unread)
    # ListSecrets shows it too, as AWS's SecretListEntry does.
    listed = {s["Name"]: s for s in sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]}
    assert listed[name]["LastAccessedDate"] == day
    unread_name = sm.describe_secret(SecretId=unread)["Name"]
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [unread_name]}])["SecretList"]
    assert [s["Name"] for s in listed] == [unread_name] and "LastAccessedDate" not in listed[0]


def test_get_random_password_honours_every_option(sm):
    default = sm.get_random_password()["RandomPassword"]
    assert len(default) == 32 and " " not in default
    assert any(c.islower() for c in default) and any(c.isupper() for c in default)
    assert any(c.isdigit() for c in default)
    digits = sm.get_random_password(PasswordLength=40, ExcludeLowercase=True, ExcludeUppercase=True,
                                    ExcludePunctuation=True, ExcludeCharacters="0")["RandomPassword"]
    assert len(digits) == 40 and set(digits) <= set("123456789")
    spaced = sm.get_random_password(PasswordLength=200, IncludeSpace=True)["RandomPassword"]
    assert " " in spaced
    too_short = error_of(lambda: sm.get_random_password(PasswordLength=3))
    assert too_short["Code"] == "InvalidParameterException"


def test_aws_caching_client_reads_and_sees_a_new_value_after_refresh(sm):
    # (test_secretsmanager_rotation.py has it see a rotation.)
    name = unique("cached")
    sm.create_secret(Name=name, SecretString="first")
    cache = SecretCache(config=SecretCacheConfig(), client=sm)
    assert cache.get_secret_string(name) == "first"
    sm.put_secret_value(SecretId=name, SecretString="second")
    # Cached until refreshed, as the client promises.
    assert cache.get_secret_string(name) == "first"
    cache.refresh_secret_now(name)
    assert cache.get_secret_string(name) == "second"
    assert cache.get_secret_string(name, "AWSPREVIOUS") == "first"


def test_resource_policies_are_validated_and_public_ones_blocked(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="x")
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    blocked = error_of(lambda: sm.put_resource_policy(SecretId=name, ResourcePolicy=public,
                                                      BlockPublicPolicy=True))
    assert blocked["Code"] == "PublicPolicyException"
    assert sm.validate_resource_policy(ResourcePolicy=public)["PolicyValidationPassed"] is False
    malformed = error_of(lambda: sm.put_resource_policy(SecretId=name, ResourcePolicy='{"Statement": 3}'))
    assert malformed["Code"] == "MalformedPolicyDocumentException"
    narrowed = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT_ID}}}]})
    assert sm.validate_resource_policy(SecretId=name, ResourcePolicy=narrowed)["PolicyValidationPassed"]
    sm.put_resource_policy(SecretId=name, ResourcePolicy=narrowed, BlockPublicPolicy=True)
    assert json.loads(sm.get_resource_policy(SecretId=name)["ResourcePolicy"]) == json.loads(narrowed)
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_operations_not_served_answer_not_implemented_by_name(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="x")
    refused = error_of(lambda: sm.replicate_secret_to_regions(
        SecretId=name, AddReplicaRegions=[{"Region": "eu-west-1"}]))
    assert refused["Code"] == "NotImplemented"
    assert "ReplicateSecretToRegions" in refused["Message"]
