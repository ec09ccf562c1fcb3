"""IAM identities end to end with boto3 and the AWS CLI: groups and membership, roles and
their trust policies, instance profiles, access keys (made, used, deactivated, deleted)."""

import json
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


@pytest.fixture
def iam(rampart):
    return rampart.client("iam")


def cli(rampart, *args):
    result = rampart.aws("iam", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


# --- groups ---------------------------------------------------------------------------------


def test_group_membership_is_seen_from_both_sides(rampart, iam):
    group, alice, bob = unique("g"), unique("alice"), unique("bob")
    created = iam.create_group(GroupName=group, Path="/ops/")["Group"]
    assert created["GroupId"].startswith("AGPA")
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:group/ops/{group}"
    for user in (alice, bob):
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)

    got = iam.get_group(GroupName=group)
    assert got["Group"]["GroupName"] == group
    assert sorted(u["UserName"] for u in got["Users"]) == sorted([alice, bob])
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=alice)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/ops/")["Groups"]]
    assert group not in [g["GroupName"] for g in iam.list_groups(PathPrefix="/dev/")["Groups"]]

    page = iam.get_group(GroupName=group, MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Users"]) == 1
    rest = iam.get_group(GroupName=group, Marker=page["Marker"])
    assert rest["IsTruncated"] is False
    assert {page["Users"][0]["UserName"], rest["Users"][0]["UserName"]} == {alice, bob}

    # The CLI sees the same.
    out = cli(rampart, "get-group", "--group-name", group)
    assert sorted(u["UserName"] for u in out["Users"]) == sorted([alice, bob])

    iam.remove_user_from_group(GroupName=group, UserName=alice)
    assert iam.list_groups_for_user(UserName=alice)["Groups"] == []
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [bob]


def test_a_group_with_members_cannot_be_deleted(iam):
    group, user = unique("g"), unique("u")
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    err = error(lambda: iam.delete_group(GroupName=group))
    assert err["Code"] == "DeleteConflict"
    assert err["Message"] == "Cannot delete entity, must remove users from group first."
    err = error(lambda: iam.delete_user(UserName=user))
    assert err["Code"] == "DeleteConflict"
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    err = error(lambda: iam.get_group(GroupName=group))
    assert err["Code"] == "NoSuchEntity"
    assert err["Message"] == f"The group with name {group} cannot be found."
    # Names are unique without regard to case.
    iam.create_group(GroupName=group.upper())
    err = error(lambda: iam.create_group(GroupName=group))
    assert err["Code"] == "EntityAlreadyExists"
    assert err["Message"] == f"Group with name {group} already exists."


def test_a_user_is_in_at_most_ten_groups(iam):
    user = unique("u")
    iam.create_user(UserName=user)
    groups = [unique(f"g{i}") for i in range(11)]
    for group in groups:
        iam.create_group(GroupName=group)
    for group in groups[:10]:
        iam.add_user_to_group(GroupName=group, UserName=user)
    err = error(lambda: iam.add_user_to_group(GroupName=groups[10], UserName=user))
    assert err["Code"] == "LimitExceeded"
    assert err["Message"] == "Cannot exceed quota for GroupsPerUser: 10"
    assert len(iam.list_groups_for_user(UserName=user)["Groups"]) == 10


def test_renaming_a_group_follows_into_its_members(iam):
    old, new, user = unique("g"), unique("g"), unique("u")
    iam.create_group(GroupName=old)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=old, UserName=user)
    iam.update_group(GroupName=old, NewGroupName=new, NewPath="/renamed/")
    groups = iam.list_groups_for_user(UserName=user)["Groups"]
    assert [(g["GroupName"], g["Path"]) for g in groups] == [(new, "/renamed/")]
    assert iam.get_group(GroupName=new)["Group"]["Arn"] == (
        f"arn:aws:iam::{ACCOUNT_ID}:group/renamed/{new}"
    )
    assert error(lambda: iam.get_group(GroupName=old))["Code"] == "NoSuchEntity"


# --- roles ----------------------------------------------------------------------------------


def test_a_role_keeps_its_trust_policy(rampart, iam):
    name = unique("r")
    created = iam.create_role(
        RoleName=name,
        Path="/svc/",
        AssumeRolePolicyDocument=json.dumps(TRUST, indent=2),
        Description="web servers",
        Tags=[{"Key": "team", "Value": "web"}],
    )["Role"]
    assert created["RoleId"].startswith("AROA")
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/svc/{name}"
    assert created["MaxSessionDuration"] == 3600
    # boto3 URL-decodes and parses the document AWS returns encoded.
    assert created["AssumeRolePolicyDocument"] == TRUST

    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST
    assert got["Description"] == "web servers"
    assert got["Tags"] == [{"Key": "team", "Value": "web"}]
    assert got["RoleLastUsed"] == {}

    listed = [r for r in iam.list_roles(PathPrefix="/svc/")["Roles"] if r["RoleName"] == name]
    assert len(listed) == 1
    assert "Tags" not in listed[0] and "RoleLastUsed" not in listed[0]
    assert listed[0]["AssumeRolePolicyDocument"] == TRUST

    out = cli(rampart, "get-role", "--role-name", name)
    assert out["Role"]["AssumeRolePolicyDocument"] == TRUST


def test_a_trust_policy_is_validated(iam):
    no_principal = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}],
    }
    err = error(
        lambda: iam.create_role(
            RoleName=unique("r"), AssumeRolePolicyDocument=json.dumps(no_principal)
        )
    )
    assert err["Code"] == "MalformedPolicyDocument"
    assert err["Message"] == "Missing required field Principal"
    err = error(lambda: iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument="{"))
    assert err["Code"] == "MalformedPolicyDocument"
    assert err["Message"] == "Syntax errors in policy."

    name = unique("r")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    err = error(
        lambda: iam.update_assume_role_policy(
            RoleName=name, PolicyDocument=json.dumps(no_principal)
        )
    )
    assert err["Code"] == "MalformedPolicyDocument"
    lambda_trust = json.loads(json.dumps(TRUST))
    lambda_trust["Statement"][0]["Principal"]["Service"] = "lambda.amazonaws.com"
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(lambda_trust))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == lambda_trust


def test_a_role_is_updated_and_tagged(rampart, iam):
    name = unique("r")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.update_role(RoleName=name, Description="first", MaxSessionDuration=7200)
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("first", 7200)
    updated = iam.update_role_description(RoleName=name, Description="second")["Role"]
    assert updated["Description"] == "second"
    # boto3 checks bounds itself; unchecked, the request meets the model's bounds on the server.
    unchecked = boto3.client(
        "iam", endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
        config=botocore.config.Config(parameter_validation=False),
    )
    err = error(lambda: unchecked.update_role(RoleName=name, MaxSessionDuration=60))
    assert err["Code"] == "ValidationError"
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 7200

    iam.tag_role(RoleName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_role(RoleName=name, TagKeys=["a"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "b", "Value": "2"}]

    iam.delete_role(RoleName=name)
    err = error(lambda: iam.get_role(RoleName=name))
    assert err["Code"] == "NoSuchEntity"
    assert err["Message"] == f"The role with name {name} cannot be found."


# --- instance profiles ----------------------------------------------------------------------


def test_an_instance_profile_carries_one_role(rampart, iam):
    profile, role, other = unique("p"), unique("r"), unique("r")
    for r in (role, other):
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=json.dumps(TRUST))
    created = iam.create_instance_profile(InstanceProfileName=profile, Path="/web/")
    created = created["InstanceProfile"]
    assert created["InstanceProfileId"].startswith("AIPA")
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/web/{profile}"
    assert created["Roles"] == []

    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    err = error(lambda: iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=other))
    assert err["Code"] == "LimitExceeded"
    assert err["Message"] == "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"

    got = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [role]
    assert got["Roles"][0]["AssumeRolePolicyDocument"] == TRUST
    for_role = iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == [profile]
    assert iam.list_instance_profiles_for_role(RoleName=other)["InstanceProfiles"] == []
    out = cli(rampart, "list-instance-profiles", "--path-prefix", "/web/")
    assert profile in [p["InstanceProfileName"] for p in out["InstanceProfiles"]]

    err = error(lambda: iam.delete_instance_profile(InstanceProfileName=profile))
    assert err["Code"] == "DeleteConflict"
    assert err["Message"] == "Cannot delete entity, must remove roles from instance profile first."
    err = error(lambda: iam.delete_role(RoleName=role))
    assert err["Code"] == "DeleteConflict"
    assert err["Message"] == "Cannot delete entity, must remove roles from instance profile first."

    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_role(RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    err = error(lambda: iam.get_instance_profile(InstanceProfileName=profile))
    assert err["Code"] == "NoSuchEntity"


def test_instance_profile_tags(iam):
    profile = unique("p")
    iam.create_instance_profile(
        InstanceProfileName=profile, Tags=[{"Key": "env", "Value": "dev"}]
    )
    iam.tag_instance_profile(InstanceProfileName=profile, Tags=[{"Key": "team", "Value": "a"}])
    iam.untag_instance_profile(InstanceProfileName=profile, TagKeys=["env"])
    tags = iam.list_instance_profile_tags(InstanceProfileName=profile)["Tags"]
    assert tags == [{"Key": "team", "Value": "a"}]


# --- access keys ----------------------------------------------------------------------------


@pytest.fixture
def user_with_key(iam):
    name = unique("u")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key


def test_a_new_key_is_shown_once_and_listed_without_its_secret(rampart, iam, user_with_key):
    name, key = user_with_key
    assert key["UserName"] == name
    assert key["Status"] == "Active"
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key["AccessKeyId"], "Active")]
    assert "SecretAccessKey" not in listed[0]
    # The key ID encodes the account, as AWS's do.
    result = rampart.aws("sts", "get-access-key-info", "--access-key-id", key["AccessKeyId"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Account"] == ACCOUNT_ID


def test_a_users_key_signs_requests_as_the_user(rampart, user_with_key):
    name, key = user_with_key
    sts = rampart.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    me = sts.get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    assert me["Account"] == ACCOUNT_ID


def test_an_inactive_key_is_refused_until_reactivated(rampart, iam, user_with_key):
    name, key = user_with_key
    sts = rampart.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert listed[0]["Status"] == "Inactive"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sts.get_caller_identity()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_a_user_has_at_most_two_keys(rampart, iam, user_with_key):
    name, first = user_with_key
    second = cli(rampart, "create-access-key", "--user-name", name)["AccessKey"]
    assert second["UserName"] == name and len(second["SecretAccessKey"]) == 40
    err = error(lambda: iam.create_access_key(UserName=name))
    assert err["Code"] == "LimitExceeded"
    assert err["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    listed = cli(rampart, "list-access-keys", "--user-name", name)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted(
        [first["AccessKeyId"], second["AccessKeyId"]]
    )


def test_a_deleted_key_is_gone_and_the_user_can_then_be_deleted(rampart, iam, user_with_key):
    name, key = user_with_key
    err = error(lambda: iam.delete_user(UserName=name))
    assert err["Code"] == "DeleteConflict"
    err = error(lambda: iam.delete_access_key(UserName=name, AccessKeyId="AKIA" + "A" * 16))
    assert err["Code"] == "NoSuchEntity"
    assert err["Message"] == f"The Access Key with id AKIA{'A' * 16} cannot be found."
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    sts = rampart.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sts.get_caller_identity()
    assert excinfo.value.response["Error"]["Code"] == "InvalidClientTokenId"
    iam.delete_user(UserName=name)


def test_a_key_never_used_reports_na(iam, user_with_key):
    name, key = user_with_key
    got = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert got["UserName"] == name
    assert got["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    assert got["AccessKeyLastUsed"]["Region"] == "N/A"
    assert "LastUsedDate" not in got["AccessKeyLastUsed"]


def test_a_used_key_reports_its_last_use(rampart, iam, user_with_key):
    _, key = user_with_key
    rampart.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["ServiceName"] == "sts"
    assert used["Region"] == "us-east-1"
    assert "LastUsedDate" in used


def test_without_a_user_name_the_root_user_manages_its_own_keys(rampart, iam):
    own = iam.list_access_keys()["AccessKeyMetadata"]
    assert ACCESS_KEY_ID in [k["AccessKeyId"] for k in own]
    created = iam.create_access_key()["AccessKey"]
    assert "UserName" not in created
    root = rampart.client("sts", key=created["AccessKeyId"], secret=created["SecretAccessKey"])
    assert root.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"
    err = error(lambda: iam.create_access_key())
    assert err["Code"] == "LimitExceeded"
    iam.delete_access_key(AccessKeyId=created["AccessKeyId"])
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [
        ACCESS_KEY_ID
    ]
