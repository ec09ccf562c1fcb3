"""IAM managed policies, versions, attachments, inline policies and permissions boundaries,
through a real rampart with boto3 and the AWS CLI. Each test uses its own names: the server is
shared by the module."""

import json

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID

DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}],
}


def doc_allowing(action):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def cli_json(rampart, *args):
    result = rampart.aws(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture(scope="module")
def iam(rampart):
    return rampart.client("iam")


def test_a_policy_with_versions_up_to_the_limit(iam):
    policy = iam.create_policy(
        PolicyName="versioned", Path="/team/", PolicyDocument=json.dumps(DOC),
        Description="five at most",
    )["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:policy/team/versioned"
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    assert policy["DefaultVersionId"] == "v1"
    assert policy["AttachmentCount"] == 0
    assert policy["IsAttachable"] is True

    for n in range(2, 6):
        version = iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(doc_allowing(f"kms:Op{n}"))
        )["PolicyVersion"]
        assert version["VersionId"] == f"v{n}"
        assert version["IsDefaultVersion"] is False
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC))
    assert error(excinfo) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, "
        "you must delete an existing version.",
    )

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    v3 = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    # boto3 decodes the URL-encoded document into a dict.
    assert v3["Document"] == doc_allowing("kms:Op3")
    assert v3["IsDefaultVersion"] is True
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in listed] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["VersionId"] for v in listed if v["IsDefaultVersion"]] == ["v3"]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error(excinfo) == ("DeleteConflict", "Cannot delete the default version of a policy.")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_policy(PolicyArn=arn)
    assert error(excinfo)[0] == "DeleteConflict"
    assert "more than one version" in error(excinfo)[1]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.get_policy_version(PolicyArn=arn, VersionId="v9")
    assert error(excinfo) == (
        "NoSuchEntity", f"Policy {arn} version v9 does not exist or is not attachable.",
    )

    for v in ["v1", "v2", "v4", "v5"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.get_policy(PolicyArn=arn)
    assert error(excinfo) == ("NoSuchEntity", f"Policy {arn} was not found.")


def test_the_cli_round_trips_a_policy_version_document(rampart):
    created = cli_json(
        rampart, "iam", "create-policy", "--policy-name", "cli-policy",
        "--policy-document", json.dumps(doc_allowing("sts:GetCallerIdentity"), indent=2),
    )
    arn = created["Policy"]["Arn"]
    got = cli_json(rampart, "iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v1")
    assert got["PolicyVersion"]["Document"] == doc_allowing("sts:GetCallerIdentity")
    duplicate = rampart.aws(
        "iam", "create-policy", "--policy-name", "CLI-POLICY",
        "--policy-document", json.dumps(DOC),
    )
    assert duplicate.returncode != 0
    assert "EntityAlreadyExists" in duplicate.stderr
    assert "A policy called CLI-POLICY already exists. Duplicate names are not allowed." in duplicate.stderr


def test_attach_to_a_user_and_list_entities(iam):
    iam.create_user(UserName="attach-bob")
    arn = iam.create_policy(PolicyName="attachable", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="attach-bob", PolicyArn=arn)
    iam.attach_user_policy(UserName="attach-bob", PolicyArn=arn)  # again: no change
    iam.attach_user_policy(UserName="attach-bob", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")

    attached = iam.list_attached_user_policies(UserName="attach-bob")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == ["ReadOnlyAccess", "attachable"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1

    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["attach-bob"]
    assert entities["PolicyUsers"][0]["UserId"].startswith("AIDA")
    assert entities["PolicyGroups"] == [] and entities["PolicyRoles"] == []
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")["PolicyUsers"] == []

    only_attached = iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]
    assert "attachable" in [p["PolicyName"] for p in only_attached]

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_policy(PolicyArn=arn)
    assert error(excinfo) == ("DeleteConflict", "Cannot delete a policy attached to entities.")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_user(UserName="attach-bob")
    assert error(excinfo)[0] == "DeleteConflict"

    iam.detach_user_policy(UserName="attach-bob", PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.detach_user_policy(UserName="attach-bob", PolicyArn=arn)
    assert error(excinfo) == ("NoSuchEntity", f"Policy {arn} was not found.")
    missing = f"arn:aws:iam::{ACCOUNT_ID}:policy/missing"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.attach_user_policy(UserName="attach-bob", PolicyArn=missing)
    assert error(excinfo) == ("NoSuchEntity", f"Policy {missing} does not exist or is not attachable.")
    iam.delete_policy(PolicyArn=arn)


def test_at_most_ten_managed_policies_per_user(iam):
    iam.create_user(UserName="quota-bob")
    for i in range(10):
        arn = iam.create_policy(PolicyName=f"quota-{i}", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="quota-bob", PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.attach_user_policy(UserName="quota-bob", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert error(excinfo) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10")
    page = iam.list_attached_user_policies(UserName="quota-bob", MaxItems=4)
    assert page["IsTruncated"] is True and len(page["AttachedPolicies"]) == 4
    paginator = iam.get_paginator("list_attached_user_policies")
    names = [p["PolicyName"] for page in paginator.paginate(UserName="quota-bob", PaginationConfig={"PageSize": 3})
             for p in page["AttachedPolicies"]]
    assert sorted(names) == sorted(f"quota-{i}" for i in range(10))


def test_inline_policies_round_trip_with_the_cli(rampart, iam):
    iam.create_user(UserName="inline-bob")
    document = doc_allowing(["iam:ListUsers", "iam:GetUser"])
    cli_json(rampart, "iam", "put-user-policy", "--user-name", "inline-bob",
             "--policy-name", "read", "--policy-document", json.dumps(document, indent=4))
    got = cli_json(rampart, "iam", "get-user-policy", "--user-name", "inline-bob", "--policy-name", "read")
    assert got["UserName"] == "inline-bob"
    assert got["PolicyName"] == "read"
    assert got["PolicyDocument"] == document
    assert iam.get_user_policy(UserName="inline-bob", PolicyName="read")["PolicyDocument"] == document

    iam.put_user_policy(UserName="inline-bob", PolicyName="another", PolicyDocument=json.dumps(DOC))
    assert iam.list_user_policies(UserName="inline-bob")["PolicyNames"] == ["another", "read"]
    first = iam.list_user_policies(UserName="inline-bob", MaxItems=1)
    assert first["IsTruncated"] is True and first["PolicyNames"] == ["another"]
    second = iam.list_user_policies(UserName="inline-bob", MaxItems=1, Marker=first["Marker"])
    assert second["IsTruncated"] is False and second["PolicyNames"] == ["read"]

    big = doc_allowing([f"iam:Get{'X' * 40}{i}" for i in range(50)])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.put_user_policy(UserName="inline-bob", PolicyName="big", PolicyDocument=json.dumps(big))
    assert error(excinfo) == ("LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user inline-bob")

    cli_json(rampart, "iam", "delete-user-policy", "--user-name", "inline-bob", "--policy-name", "read")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.get_user_policy(UserName="inline-bob", PolicyName="read")
    assert error(excinfo) == ("NoSuchEntity", "The user policy with name read cannot be found.")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_user_policy(UserName="inline-bob", PolicyName="read")
    assert error(excinfo) == ("NoSuchEntity", "The user policy with name read cannot be found.")


def test_permissions_boundary_put_and_delete(iam):
    iam.create_user(UserName="bounded-bob")
    arn = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="bounded-bob", PermissionsBoundary=arn)
    user = iam.get_user(UserName="bounded-bob")["User"]
    assert user["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn,
    }
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (0, 1)
    bounds = iam.list_policies(PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["Arn"] for p in bounds] == [arn]
    entities = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["bounded-bob"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_policy(PolicyArn=arn)
    assert error(excinfo)[0] == "DeleteConflict"

    missing = f"arn:aws:iam::{ACCOUNT_ID}:policy/no-boundary"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.put_user_permissions_boundary(UserName="bounded-bob", PermissionsBoundary=missing)
    assert error(excinfo) == ("NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.")

    iam.delete_user_permissions_boundary(UserName="bounded-bob")
    assert "PermissionsBoundary" not in iam.get_user(UserName="bounded-bob")["User"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    iam.delete_policy(PolicyArn=arn)


def test_aws_managed_policies_are_listed_attachable_and_read_only(rampart, iam):
    paginator = iam.get_paginator("list_policies")
    aws = [p for page in paginator.paginate(Scope="AWS", PaginationConfig={"PageSize": 5})
           for p in page["Policies"]]
    by_name = {p["PolicyName"]: p for p in aws}
    for name in ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess",
                 "IAMReadOnlyAccess", "IAMUserChangePassword", "SecurityAudit", "ViewOnlyAccess"]:
        assert name in by_name, name
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws)
    assert by_name["ViewOnlyAccess"]["Arn"] == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    assert by_name["AdministratorAccess"]["PolicyId"] == "ANPAIWMBCKSKIEE64ZLYK"
    local = iam.list_policies(Scope="Local")["Policies"]
    assert not any(p["Arn"].startswith("arn:aws:iam::aws:") for p in local)

    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    version = iam.get_policy_version(PolicyArn=admin, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    got = cli_json(rampart, "iam", "get-policy", "--policy-arn", admin)["Policy"]
    assert got["Description"] == "Provides full access to AWS services and resources."

    iam.create_user(UserName="managed-bob")
    iam.attach_user_policy(UserName="managed-bob", PolicyArn=admin)
    assert iam.get_policy(PolicyArn=admin)["Policy"]["AttachmentCount"] >= 1
    entities = iam.list_entities_for_policy(PolicyArn=admin)
    assert "managed-bob" in [u["UserName"] for u in entities["PolicyUsers"]]
    iam.detach_user_policy(UserName="managed-bob", PolicyArn=admin)

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.delete_policy(PolicyArn=admin)
    assert error(excinfo) == ("AccessDenied", "Cannot delete policies outside your own account.")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.create_policy_version(PolicyArn=admin, PolicyDocument=json.dumps(DOC))
    assert error(excinfo) == ("AccessDenied", "Cannot create versions for policies outside your own account.")


@pytest.mark.parametrize("document, message", [
    ("{not json", "Syntax errors in policy."),
    (json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}), None),
])
def test_malformed_documents_are_refused(iam, document, message):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.create_policy(PolicyName="malformed", PolicyDocument=document)
    code, text = error(excinfo)
    assert code == "MalformedPolicyDocument"
    if message:
        assert text == message
    iam.create_user(UserName=f"malformed-{len(document)}")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.put_user_policy(UserName=f"malformed-{len(document)}", PolicyName="p", PolicyDocument=document)
    assert error(excinfo)[0] == "MalformedPolicyDocument"


def test_documents_go_out_url_encoded(rampart):
    """AWS URL-encodes policy documents in its responses; boto3 and the CLI decode them."""
    iam = rampart.client("iam")
    bodies = []
    iam.meta.events.register(
        "before-parse.iam.GetUserPolicy",
        lambda response_dict, **kwargs: bodies.append(response_dict["body"].decode()),
    )
    iam.create_user(UserName="encoded-bob")
    iam.put_user_policy(UserName="encoded-bob", PolicyName="p", PolicyDocument=json.dumps(DOC))
    assert iam.get_user_policy(UserName="encoded-bob", PolicyName="p")["PolicyDocument"] == DOC
    assert "<PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22" in bodies[0]
