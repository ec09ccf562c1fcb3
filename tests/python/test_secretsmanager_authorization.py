"""Secrets Manager authorized as AWS authorizes it, end to end with boto3, each allowance beside
its refusal: every operation on the secret's ARN stopped by a Deny on its tag; condition keys
(secretsmanager:VersionStage, secretsmanager:Name, secretsmanager:ForceDeleteWithoutRecovery,
secretsmanager:BlockPublicPolicy, aws:RequestTag); kms:Decrypt on the secret's key (refused
without it, allowed through the key policy, the AWS managed key serving the account's
principals); a caller of another account allowed only when the secret's resource policy and
its own account both allow, and the key policy lets it decrypt; an SCP binding a member
account."""

import json
import os
import subprocess
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID

REGION = "us-east-1"
OTHER_ACCOUNT = "111122223333"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def denied(call):
    return error_of(call)["Code"] == "AccessDeniedException"


def client(rampart, service, key, secret, token=None):
    return boto3.client(service, endpoint_url=rampart.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token)


def unique(prefix="app"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


class User:
    def __init__(self, rampart, *statements, iam=None):
        self.iam = iam or rampart.client("iam")
        self.name = f"s-{uuid.uuid4().hex[:8]}"
        self.arn = self.iam.create_user(UserName=self.name)["User"]["Arn"]
        if statements:
            self.allow(*statements)
        key = self.iam.create_access_key(UserName=self.name)["AccessKey"]
        self.sm = client(rampart, "secretsmanager", key["AccessKeyId"], key["SecretAccessKey"])

    def allow(self, *statements):
        self.iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=doc(*statements))


@pytest.fixture(scope="module")
def admin(rampart):
    return rampart.client("secretsmanager")


def key_policy(*statements):
    return doc({"Sid": "account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "kms:*", "Resource": "*"}, *statements)


# Every operation on a secret, as (name, call on a secret's name). Each is allowed on a blue
# secret and denied on a red one by the same user.
def operations():
    policy = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                  "Action": "secretsmanager:GetSecretValue", "Resource": "*"})
    return [
        ("GetSecretValue", lambda sm, s: sm.get_secret_value(SecretId=s)),
        ("DescribeSecret", lambda sm, s: sm.describe_secret(SecretId=s)),
        ("PutSecretValue", lambda sm, s: sm.put_secret_value(SecretId=s, SecretString="n")),
        ("UpdateSecret", lambda sm, s: sm.update_secret(SecretId=s, Description="d")),
        ("ListSecretVersionIds", lambda sm, s: sm.list_secret_version_ids(SecretId=s)),
        ("UpdateSecretVersionStage", lambda sm, s: sm.update_secret_version_stage(
            SecretId=s, VersionStage="nowhere", RemoveFromVersionId="0" * 32)),
        ("TagResource", lambda sm, s: sm.tag_resource(SecretId=s, Tags=[{"Key": "k", "Value": "v"}])),
        ("UntagResource", lambda sm, s: sm.untag_resource(SecretId=s, TagKeys=["k"])),
        ("PutResourcePolicy", lambda sm, s: sm.put_resource_policy(SecretId=s, ResourcePolicy=policy)),
        ("GetResourcePolicy", lambda sm, s: sm.get_resource_policy(SecretId=s)),
        ("DeleteResourcePolicy", lambda sm, s: sm.delete_resource_policy(SecretId=s)),
        ("ValidateResourcePolicy", lambda sm, s: sm.validate_resource_policy(SecretId=s, ResourcePolicy=policy)),
        ("BatchGetSecretValue", lambda sm, s: sm.batch_get_secret_value(SecretIdList=[s])),
        ("DeleteSecret", lambda sm, s: sm.delete_secret(SecretId=s, RecoveryWindowInDays=7)),
        ("RestoreSecret", lambda sm, s: sm.restore_secret(SecretId=s)),
    ]


@pytest.mark.parametrize("operation,call", operations(), ids=[o[0] for o in operations()])
def test_a_deny_on_the_secrets_tag_stops_each_operation(rampart, admin, operation, call):
    blue, red = unique("blue"), unique("red")
    admin.create_secret(Name=blue, SecretString="b", Tags=[{"Key": "team", "Value": "blue"}])
    admin.create_secret(Name=red, SecretString="r", Tags=[{"Key": "team", "Value": "red"}])
    user = User(rampart, allow("secretsmanager:*"),
                deny("secretsmanager:*", Condition={"StringEquals": {"aws:ResourceTag/team": "red"}}))
    if operation == "UpdateSecretVersionStage":
        # Allowed: the handler answers (the label is on no version); denied: it never runs.
        assert error_of(lambda: call(user.sm, blue))["Code"] == "ResourceNotFoundException"
    elif operation == "BatchGetSecretValue":
        assert [v["Name"] for v in call(user.sm, blue)["SecretValues"]] == [blue]
    else:
        call(user.sm, blue)
    if operation == "BatchGetSecretValue":
        # The batch is answered; the red secret is refused alone, in Errors.
        answer = call(user.sm, red)
        assert answer["SecretValues"] == []
        refused = {"Code": answer["Errors"][0]["ErrorCode"], "Message": answer["Errors"][0]["Message"]}
    else:
        refused = error_of(lambda: call(user.sm, red))
    assert refused["Code"] == "AccessDeniedException"
    assert "with an explicit deny in an identity-based policy" in refused["Message"]


def test_secretsmanager_resource_tag_key_and_arn_wildcards(rampart, admin):
    name = unique("scoped")
    arn = admin.create_secret(Name=name, SecretString="v", Tags=[{"Key": "env", "Value": "prod"}])["ARN"]
    other = admin.create_secret(Name=unique("elsewhere"), SecretString="v")["ARN"]
    user = User(rampart, allow("secretsmanager:GetSecretValue",
                               f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:scoped/*"))
    assert user.sm.get_secret_value(SecretId=arn)["SecretString"] == "v"
    assert denied(lambda: user.sm.get_secret_value(SecretId=other))
    user.allow(allow("secretsmanager:GetSecretValue", "*",
                     Condition={"StringEquals": {"secretsmanager:ResourceTag/env": "prod"}}))
    assert user.sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    assert denied(lambda: user.sm.get_secret_value(SecretId=other))


def test_condition_keys_of_each_family(rampart, admin):
    name = unique()
    admin.create_secret(Name=name, SecretString="one")
    admin.put_secret_value(SecretId=name, SecretString="two")
    user = User(rampart, allow("secretsmanager:*"),
                deny("secretsmanager:GetSecretValue",
                     Condition={"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}}),
                deny("secretsmanager:CreateSecret",
                     Condition={"StringNotLike": {"secretsmanager:Name": "team/*"}}),
                deny("secretsmanager:CreateSecret", Condition={"Null": {"aws:RequestTag/owner": "true"}}),
                deny("secretsmanager:DeleteSecret",
                     Condition={"Bool": {"secretsmanager:ForceDeleteWithoutRecovery": "true"}}),
                deny("secretsmanager:PutResourcePolicy",
                     Condition={"Bool": {"secretsmanager:BlockPublicPolicy": "false"}}))
    assert user.sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    assert denied(lambda: user.sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS"))
    tags = [{"Key": "owner", "Value": "me"}]
    assert denied(lambda: user.sm.create_secret(Name=unique("other"), SecretString="x", Tags=tags))
    assert denied(lambda: user.sm.create_secret(Name=unique("team"), SecretString="x"))
    mine = user.sm.create_secret(Name=unique("team"), SecretString="x", Tags=tags)["Name"]
    policy = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                  "Action": "secretsmanager:GetSecretValue", "Resource": "*"})
    assert denied(lambda: user.sm.put_resource_policy(SecretId=mine, ResourcePolicy=policy))
    user.sm.put_resource_policy(SecretId=mine, ResourcePolicy=policy, BlockPublicPolicy=True)
    assert denied(lambda: user.sm.delete_secret(SecretId=mine, ForceDeleteWithoutRecovery=True))
    user.sm.delete_secret(SecretId=mine, RecoveryWindowInDays=7)


def test_reading_needs_kms_decrypt_on_the_secrets_key(rampart, admin):
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    name = unique("cmk")
    admin.create_secret(Name=name, SecretString="s3cret", KmsKeyId=key)
    assert admin.describe_secret(SecretId=name)["KmsKeyId"] == key
    user = User(rampart, allow("secretsmanager:GetSecretValue"))
    refused = error_of(lambda: user.sm.get_secret_value(SecretId=name))
    assert refused == {"Code": "AccessDeniedException", "Message": "Access to KMS is not allowed"}
    # kms:Decrypt through Secrets Manager, for this secret only.
    arn = admin.describe_secret(SecretId=name)["ARN"]
    user.allow(allow("secretsmanager:GetSecretValue"), allow("kms:Decrypt", key, Condition={
        "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
                         "kms:EncryptionContext:SecretARN": arn}}))
    assert user.sm.get_secret_value(SecretId=name)["SecretString"] == "s3cret"
    # The key policy alone allows it too.
    user.allow(allow("secretsmanager:GetSecretValue"))
    assert denied(lambda: user.sm.get_secret_value(SecretId=name))
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy(
        {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "kms:Decrypt", "Resource": "*"}))
    assert user.sm.get_secret_value(SecretId=name)["SecretString"] == "s3cret"
    # Writing needs kms:GenerateDataKey on the key.
    writer = User(rampart, allow("secretsmanager:PutSecretValue"))
    assert denied(lambda: writer.sm.put_secret_value(SecretId=name, SecretString="x"))


def test_the_aws_managed_key_serves_the_accounts_principals(rampart):
    name = unique("managed")
    user = User(rampart, allow(["secretsmanager:CreateSecret", "secretsmanager:GetSecretValue"]))
    user.sm.create_secret(Name=name, SecretString="managed")
    assert user.sm.get_secret_value(SecretId=name)["SecretString"] == "managed"
    user.allow(allow(["secretsmanager:GetSecretValue"]), deny("kms:Decrypt"))
    assert denied(lambda: user.sm.get_secret_value(SecretId=name))
    assert rampart.client("kms").describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"][
        "KeyManager"] == "AWS"


def create_account(rampart, account_id):
    """Another account, made by the operator beside the running server."""
    out = subprocess.run(
        [os.environ["RAMPART_BIN"], "admin", "create-account", "--account-id", account_id,
         "--data-dir", str(rampart.data_dir)],
        capture_output=True, text=True, check=True).stdout
    field = lambda name: next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith(name))
    return field("root access key id"), field("root secret access key")


def test_another_account_reads_only_through_the_resource_policy(rampart, admin):
    other_key, other_secret = create_account(rampart, OTHER_ACCOUNT)
    other_iam = client(rampart, "iam", other_key, other_secret)
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    name = unique("shared")
    arn = admin.create_secret(Name=name, SecretString="across", KmsKeyId=key)["ARN"]
    bob = User(rampart, allow("secretsmanager:GetSecretValue", arn), allow("kms:Decrypt", key),
               iam=other_iam)
    # Bob's account allows, the secret's does not: denied.
    assert denied(lambda: bob.sm.get_secret_value(SecretId=arn))
    admin.put_resource_policy(SecretId=name, BlockPublicPolicy=True, ResourcePolicy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}))
    # The secret allows, the key does not let bob decrypt: refused by KMS.
    refused = error_of(lambda: bob.sm.get_secret_value(SecretId=arn))
    assert refused["Code"] == "AccessDeniedException"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
         "Action": "kms:Decrypt", "Resource": "*"}))
    assert bob.sm.get_secret_value(SecretId=arn)["SecretString"] == "across"
    # A secret of another account is named by its ARN: by name, bob's own account is searched.
    assert error_of(lambda: bob.sm.get_secret_value(SecretId=name))["Code"] in (
        "ResourceNotFoundException", "AccessDeniedException")
    # Without his own account's allowance, the resource policy alone is not enough.
    bob.allow(allow("kms:Decrypt", key))
    assert denied(lambda: bob.sm.get_secret_value(SecretId=arn))
    # And a write the policy does not grant stays refused.
    bob.allow(allow("secretsmanager:*", arn), allow("kms:*", key))
    assert denied(lambda: bob.sm.put_secret_value(SecretId=arn, SecretString="mine"))
    assert admin.get_secret_value(SecretId=name)["SecretString"] == "across"


def test_an_scp_binds_a_member_accounts_secret_reads(rampart):
    orgs = rampart.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    member = orgs.create_account(Email="sm@example.com", AccountName="sm")["CreateAccountStatus"]["AccountId"]
    iam = rampart.client("iam")
    iam.create_user(UserName="sm-org-admin")
    iam.attach_user_policy(UserName="sm-org-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="sm-org-admin")["AccessKey"]
    sts = client(rampart, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                  RoleSessionName="sm")["Credentials"]
    member_sm = client(rampart, "secretsmanager", credentials["AccessKeyId"],
                       credentials["SecretAccessKey"], credentials["SessionToken"])
    name = unique("member")
    arn = member_sm.create_secret(Name=name, SecretString="m")["ARN"]
    assert arn.startswith(f"arn:aws:secretsmanager:{REGION}:{member}:secret:{name}-")
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    scp = orgs.create_policy(Name="no-secret-reads", Description="d", Type="SERVICE_CONTROL_POLICY",
                             Content=doc(allow("*"), deny("secretsmanager:GetSecretValue")))[
        "Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=scp, TargetId=member)
    refused = error_of(lambda: member_sm.get_secret_value(SecretId=name))
    assert refused["Code"] == "AccessDeniedException"
    assert refused["Message"].endswith("with an explicit deny in a service control policy")
    # Through BatchGetSecretValue too: the SCP refuses the secret, in Errors.
    batch = member_sm.batch_get_secret_value(SecretIdList=[name])
    assert batch["SecretValues"] == []
    assert batch["Errors"][0]["ErrorCode"] == "AccessDeniedException"
    assert batch["Errors"][0]["Message"].endswith("with an explicit deny in a service control policy")
    member_sm.describe_secret(SecretId=name)
    orgs.detach_policy(PolicyId=scp, TargetId=member)
    assert member_sm.get_secret_value(SecretId=name)["SecretString"] == "m"


def batch_events(rampart, request_id):
    """The GetSecretValue events one BatchGetSecretValue request recorded, by secret."""
    events = rampart.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GetSecretValue"}], MaxResults=50)["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    return {r["requestParameters"]["secretId"]: r for r in records if r["requestID"] == request_id}


def test_batch_get_authorizes_each_secret_and_refuses_it_alone(rampart, admin):
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    names = {kind: unique(f"batch-{kind}") for kind in ("open", "red", "guarded", "cmk")}
    admin.create_secret(Name=names["open"], SecretString="open-value")
    admin.create_secret(Name=names["red"], SecretString="red-value", Tags=[{"Key": "team", "Value": "red"}])
    admin.create_secret(Name=names["guarded"], SecretString="guarded-value")
    admin.create_secret(Name=names["cmk"], SecretString="cmk-value", KmsKeyId=key)
    missing = unique("batch-missing")
    user = User(rampart, allow(["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"]),
                deny("secretsmanager:GetSecretValue", Condition={"StringEquals": {"aws:ResourceTag/team": "red"}}))
    admin.put_resource_policy(SecretId=names["guarded"], ResourcePolicy=doc(
        {"Effect": "Deny", "Principal": {"AWS": user.arn}, "Action": "secretsmanager:GetSecretValue",
         "Resource": "*"}))
    asked = [names["open"], names["red"], names["guarded"], names["cmk"], missing]
    answer = user.sm.batch_get_secret_value(SecretIdList=asked)
    assert [(v["Name"], v["SecretString"]) for v in answer["SecretValues"]] == [(names["open"], "open-value")]
    errors = {e["SecretId"]: e for e in answer["Errors"]}
    assert {k: e["ErrorCode"] for k, e in errors.items()} == {
        names["red"]: "AccessDeniedException", names["guarded"]: "AccessDeniedException",
        names["cmk"]: "AccessDeniedException", missing: "ResourceNotFoundException"}
    assert errors[names["red"]]["Message"].endswith("with an explicit deny in an identity-based policy")
    assert errors[names["guarded"]]["Message"].endswith("with an explicit deny in a resource-based policy")
    assert errors[names["cmk"]]["Message"] == "Access to KMS is not allowed"
    assert errors[missing]["Message"] == "Secrets Manager can't find the specified secret."
    # No refused value anywhere in the answer.
    assert not any(v in json.dumps(answer, default=str) for v in ("red-value", "guarded-value", "cmk-value"))

    # Each secret is recorded as the caller's own GetSecretValue, with the batch's request ID.
    events = batch_events(rampart, answer["ResponseMetadata"]["RequestId"])
    assert set(events) == set(asked)
    for name, event in events.items():
        assert event["userIdentity"]["arn"] == user.arn
        assert "invokedBy" not in event["userIdentity"]
        assert event["sourceIPAddress"] == "127.0.0.1"
        assert event.get("responseElements") is None
    assert "errorCode" not in events[names["open"]]
    for name in (names["red"], names["guarded"]):
        assert events[name]["errorCode"] == "AccessDenied"
    assert events[missing]["errorCode"] == "ResourceNotFoundException"

    # Without secretsmanager:GetSecretValue every secret is refused, and the call answered.
    reader = User(rampart, allow("secretsmanager:BatchGetSecretValue"))
    answer = reader.sm.batch_get_secret_value(SecretIdList=[names["open"]])
    assert answer["SecretValues"] == []
    assert answer["Errors"][0]["ErrorCode"] == "AccessDeniedException"
    # Without secretsmanager:BatchGetSecretValue the call itself is refused.
    getter = User(rampart, allow("secretsmanager:GetSecretValue"))
    assert denied(lambda: getter.sm.batch_get_secret_value(SecretIdList=[names["open"]]))


def test_batch_get_by_filters_needs_list_secrets(rampart, admin):
    tag = uuid.uuid4().hex[:8]
    name = unique("filtered")
    admin.create_secret(Name=name, SecretString="found", Tags=[{"Key": "batch", "Value": tag}])
    filters = [{"Key": "tag-value", "Values": [tag]}]
    user = User(rampart, allow(["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"]))
    refused = error_of(lambda: user.sm.batch_get_secret_value(Filters=filters))
    assert refused["Code"] == "AccessDeniedException"
    assert "secretsmanager:ListSecrets" in refused["Message"]
    # The list form needs no secretsmanager:ListSecrets.
    assert user.sm.batch_get_secret_value(SecretIdList=[name])["SecretValues"][0]["SecretString"] == "found"
    user.allow(allow(["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue",
                      "secretsmanager:ListSecrets"]))
    found = user.sm.batch_get_secret_value(Filters=filters)
    assert [v["Name"] for v in found["SecretValues"]] == [name]
