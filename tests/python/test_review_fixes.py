"""Fidelity fixes found in review, end to end through boto3:

- KMS CreateGrant, RetireGrant and RevokeGrant honour DryRun (authorized, checked, nothing
  changed);
- STS GetFederationToken's session tags become the federated session's principal tags, are
  limited as AssumeRole's are, and need sts:TagSession;
- the IAM access advisor reports an entity's own calls only, and a re-created entity starts
  with no history;
- a CloudTrail trail deleted and made again under its name inherits no delivery history.
"""

import gzip
import json
import time
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, Rampart, wait_for

DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set."


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


class User:
    """An IAM user with an inline policy, tags and a key, and clients signed as it."""

    def __init__(self, rampart, policy=None, path="/", name=None, tags=()):
        self.iam = rampart.client("iam")
        self.name = name or f"u-{uuid.uuid4().hex[:8]}"
        self.arn = self.iam.create_user(
            UserName=self.name, Path=path, Tags=[{"Key": k, "Value": v} for k, v in tags]
        )["User"]["Arn"]
        self.policy = policy
        if policy:
            self.iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=policy)
        key = self.iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key_id = key["AccessKeyId"]
        self.rampart = rampart
        self.secret = key["SecretAccessKey"]

    def client(self, service):
        return self.rampart.client(service, key=self.key_id, secret=self.secret)

    def delete(self):
        self.iam.delete_access_key(UserName=self.name, AccessKeyId=self.key_id)
        if self.policy:
            self.iam.delete_user_policy(UserName=self.name, PolicyName="p")
        self.iam.delete_user(UserName=self.name)


def session_client(rampart, service, credentials):
    return boto3.client(
        service, endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


# KMS grants: DryRun.


def grant_ids(kms, key):
    return [g["GrantId"] for g in kms.list_grants(KeyId=key)["Grants"]]


def test_grant_dry_runs_change_nothing_and_say_they_would_have_succeeded(rampart):
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    grantee = f"arn:aws:iam::{ACCOUNT_ID}:user/grantee"
    # The default key policy lets the account's IAM policies decide.
    granter = User(rampart, doc(allow(["kms:CreateGrant", "kms:RetireGrant", "kms:RevokeGrant",
                                       "kms:ListGrants"], key)))
    theirs = granter.client("kms")

    def create(**extra):
        return theirs.create_grant(KeyId=key, GranteePrincipal=grantee,
                                   Operations=["Encrypt", "Decrypt"], **extra)

    error = error_of(lambda: create(DryRun=True))
    assert error == {"Code": "DryRunOperationException", "Message": DRY_RUN_MESSAGE}
    assert grant_ids(kms, key) == []
    # The real call still works.
    made = create()
    assert grant_ids(kms, key) == [made["GrantId"]]

    for dry_run in (
        lambda: theirs.retire_grant(GrantToken=made["GrantToken"], DryRun=True),
        lambda: theirs.retire_grant(KeyId=key, GrantId=made["GrantId"], DryRun=True),
        lambda: theirs.revoke_grant(KeyId=key, GrantId=made["GrantId"], DryRun=True),
    ):
        assert error_of(dry_run)["Code"] == "DryRunOperationException"
        assert grant_ids(kms, key) == [made["GrantId"]]
    theirs.revoke_grant(KeyId=key, GrantId=made["GrantId"])
    assert grant_ids(kms, key) == []
    second = create()
    theirs.retire_grant(KeyId=key, GrantId=second["GrantId"])
    assert grant_ids(kms, key) == []
    # A dry run that would fail answers why.
    missing = error_of(lambda: theirs.revoke_grant(KeyId=key, GrantId=second["GrantId"], DryRun=True))
    assert missing["Code"] == "NotFoundException"


def test_a_denied_callers_grant_dry_run_is_denied(rampart):
    kms = rampart.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    made = kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT_ID}:user/g",
                            Operations=["Encrypt"])
    outsider = User(rampart, doc(allow("kms:ListGrants", key))).client("kms")
    for dry_run in (
        lambda: outsider.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT_ID}:user/g",
                                      Operations=["Encrypt"], DryRun=True),
        lambda: outsider.revoke_grant(KeyId=key, GrantId=made["GrantId"], DryRun=True),
        lambda: outsider.retire_grant(KeyId=key, GrantId=made["GrantId"], DryRun=True),
    ):
        assert error_of(dry_run)["Code"] == "AccessDeniedException"
    assert grant_ids(kms, key) == [made["GrantId"]]


# STS: GetFederationToken's session tags.

SESSION_POLICY = doc(allow("kms:*"))


def test_federation_tags_decide_principal_tag_conditions_of_the_session(rampart):
    # The broker's own tag is team=red; its policies test the caller's team.
    broker = User(rampart, doc(
        allow(["sts:GetFederationToken", "sts:TagSession"]),
        allow("kms:ListKeys", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}),
        allow("kms:ListAliases"),
        deny("kms:ListAliases", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}),
    ), tags=[("team", "red")])
    sts = broker.client("sts")
    # The session tag overrides the user's tag of the same key, whatever its case.
    tagged = sts.get_federation_token(Name="carol", Policy=SESSION_POLICY,
                                      Tags=[{"Key": "Team", "Value": "blue"}])
    assert tagged["PackedPolicySize"] > 0
    kms = session_client(rampart, "kms", tagged["Credentials"])
    kms.list_keys()
    kms.list_aliases()
    # Without the tag, the federated user is the broker's team: red.
    plain = sts.get_federation_token(Name="carol", Policy=SESSION_POLICY)
    kms = session_client(rampart, "kms", plain["Credentials"])
    assert error_of(kms.list_keys)["Code"] == "AccessDeniedException"
    assert error_of(kms.list_aliases)["Code"] == "AccessDeniedException"


def test_federation_tags_need_tag_session_as_aws_documents(rampart):
    sts = User(rampart, doc(allow("sts:GetFederationToken"))).client("sts")
    denied = error_of(lambda: sts.get_federation_token(
        Name="carol", Policy=SESSION_POLICY, Tags=[{"Key": "team", "Value": "blue"}]))
    assert denied["Code"] == "AccessDenied"
    assert "sts:TagSession" in denied["Message"]
    # Without tags, TagSession is not needed.
    sts.get_federation_token(Name="carol", Policy=SESSION_POLICY)
    # TagSession's conditions see the request's tags.
    sts = User(rampart, doc(
        allow("sts:GetFederationToken"),
        allow("sts:TagSession", Condition={"StringEquals": {"aws:RequestTag/team": "blue"},
                                           "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
    )).client("sts")
    sts.get_federation_token(Name="carol", Tags=[{"Key": "team", "Value": "blue"}])
    for refused in ([{"Key": "team", "Value": "red"}],
                    [{"Key": "team", "Value": "blue"}, {"Key": "role", "Value": "admin"}]):
        assert error_of(lambda: sts.get_federation_token(Name="carol", Tags=refused))["Code"] == "AccessDenied"


def test_federation_tags_are_limited_as_assume_roles_are(rampart):
    sts = User(rampart, doc(allow(["sts:GetFederationToken", "sts:TagSession"]))).client("sts")
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(lambda: sts.get_federation_token(Name="carol", Tags=many))["Code"] == "ValidationError"
    assert sts.get_federation_token(Name="carol", Tags=many[:50])["PackedPolicySize"] > 0
    twice = [{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]
    error = error_of(lambda: sts.get_federation_token(Name="carol", Tags=twice))
    assert error["Code"] == "ValidationError" and "Duplicate tag keys" in error["Message"]
    bad = [{"Key": "team", "Value": "no#hash"}]
    assert error_of(lambda: sts.get_federation_token(Name="carol", Tags=bad))["Code"] == "ValidationError"
    # An inline policy at the model's 2,048 characters, with a managed policy ARN: more than
    # the packed limit, tags or not.
    base = {"Version": "2012-10-17",
            "Statement": [{"Sid": "", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    padding = 2040 - len(json.dumps(base, separators=(",", ":")))
    base["Statement"][0]["Sid"] = "x" * padding
    large = json.dumps(base, separators=(",", ":"))
    error = error_of(lambda: sts.get_federation_token(
        Name="carol", Policy=large, PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        Tags=[{"Key": "team", "Value": "blue"}]))
    assert error["Code"] == "PackedPolicyTooLarge"
    assert "% of allotted space" in error["Message"]


# IAM access advisor: one entity's calls are its own.

IAM_AND_KMS = doc(allow(["iam:GetUser", "kms:ListKeys"]))


def last_accessed(iam, arn):
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    services = iam.get_service_last_accessed_details(JobId=job)["ServicesLastAccessed"]
    return {s["ServiceNamespace"]: s.get("LastAuthenticated") for s in services}


def test_the_access_advisor_reports_an_entitys_own_calls_only(rampart):
    iam = rampart.client("iam")
    name = f"b-{uuid.uuid4().hex[:6]}"
    bob = User(rampart, IAM_AND_KMS, name=name)
    # x's ARN is …:user/<bob>/x: a path that is bob's name.
    x = User(rampart, IAM_AND_KMS, path=f"/{name}/")
    x.client("kms").list_keys()
    bob.client("iam").get_user()
    bobs = last_accessed(iam, bob.arn)
    assert bobs["iam"] is not None
    assert bobs["kms"] is None, "x's KMS call reported as bob's"
    xs = last_accessed(iam, x.arn)
    assert xs["kms"] is not None and xs["iam"] is None
    # Deleted and made again, bob has no history.
    bob.delete()
    again = User(rampart, IAM_AND_KMS, name=name)
    assert again.arn == bob.arn
    assert last_accessed(iam, again.arn) == {"iam": None, "kms": None}
    again.client("kms").list_keys()
    assert last_accessed(iam, again.arn)["kms"] is not None
    # x's history is untouched by bob's deletion.
    assert last_accessed(iam, x.arn)["kms"] is not None


# CloudTrail: a trail made again inherits no delivery history.


@pytest.fixture(scope="module")
def delivering(tmp_path_factory):
    server = Rampart(tmp_path_factory.mktemp("delivering"),
                     RAMPART_TRAIL_DELIVERY_SECONDS="0.3", RAMPART_TRAIL_DIGEST_SECONDS="0.6")
    yield server
    server.stop()


def digests(bucket):
    out = {}
    for path in bucket.rglob("*.json.gz"):
        if "/CloudTrail-Digest/" in str(path):
            with gzip.open(path) as f:
                out[str(path.relative_to(bucket))] = json.load(f)
    return out


HISTORY = ("LatestDeliveryTime", "LatestDigestDeliveryTime", "LatestDeliveryAttemptTime",
           "LatestDeliveryAttemptSucceeded", "LatestDeliveryError")


def test_a_trail_made_again_inherits_no_delivery_history(delivering):
    trails = delivering.client("cloudtrail")
    iam = delivering.client("iam")
    name = "again"
    # Deleted while the deliverer works on it, several times over.
    for round_ in range(3):
        trails.create_trail(Name=name, S3BucketName=f"old-{round_}", EnableLogFileValidation=True)
        assert not any(k in trails.get_trail_status(Name=name) for k in HISTORY)
        trails.start_logging(Name=name)
        iam.list_users()
        wait_for(lambda: "LatestDeliveryTime" in trails.get_trail_status(Name=name))
        trails.delete_trail(Name=name)
    trails.create_trail(Name=name, S3BucketName="fresh", EnableLogFileValidation=True)
    status = trails.get_trail_status(Name=name)
    assert not any(k in status for k in HISTORY), status
    # Logging, the new trail starts its own digest chain in its own bucket.
    trails.start_logging(Name=name)
    iam.list_users()
    bucket = delivering.data_dir / "buckets" / "fresh"
    found = wait_for(lambda: [d for d in digests(bucket).values() if d["logFiles"]] and digests(bucket))
    for key, digest in found.items():
        previous = digest.get("previousDigestS3Object")
        assert previous is None or previous in found, (key, previous)
    assert any(d.get("previousDigestS3Object") is None for d in found.values())
