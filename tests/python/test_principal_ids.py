"""Resource policies bind the users and roles they name to unique IDs, as AWS does: a principal
deleted and created again under the same name is not the one an old trust or key policy trusts,
the policy then shows the old unique ID, and no policy can be saved naming a principal that does
not exist."""

import json
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def document(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def make_user(iam, rampart, name, policy=None):
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user_id = iam.get_user(UserName=name)["User"]["UserId"]
    return user_id, lambda service: rampart.client(
        service, key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def delete_user(iam, name):
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=policy)
    iam.delete_user(UserName=name)


def test_a_recreated_user_is_not_trusted_by_the_old_trust_policy(rampart):
    iam = rampart.client("iam")
    bob, role = f"bob-{uuid.uuid4().hex[:6]}", f"r-{uuid.uuid4().hex[:6]}"
    bob_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{bob}"
    may_assume = document([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    old_id, old_bob = make_user(iam, rampart, bob, may_assume)
    trust = document([{"Effect": "Allow", "Principal": {"AWS": bob_arn},
                       "Action": "sts:AssumeRole"}])
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    old_bob("sts").assume_role(RoleArn=role_arn, RoleSessionName="ss")

    delete_user(iam, bob)
    new_id, new_bob = make_user(iam, rampart, bob, may_assume)
    assert new_id != old_id
    # The new bob has the old bob's name, ARN and permissions, and is still not trusted.
    denied = error_of(lambda: new_bob("sts").assume_role(RoleArn=role_arn, RoleSessionName="ss"))
    assert denied["Code"] == "AccessDenied"
    # The trust policy shows the old bob's unique ID where its ARN was.
    shown = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert shown["Statement"][0]["Principal"]["AWS"] == old_id
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == role]
    assert listed[0]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == old_id
    # Saving it back as shown is refused, as AWS refuses a bare unique ID.
    refused = error_of(lambda: iam.update_assume_role_policy(
        RoleName=role, PolicyDocument=json.dumps(shown)))
    assert refused["Code"] == "MalformedPolicyDocument"
    assert refused["Message"].startswith("Invalid principal in policy")
    # Naming bob again trusts the new bob.
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=trust)
    new_bob("sts").assume_role(RoleArn=role_arn, RoleSessionName="ss")
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == json.loads(trust)


def test_a_trust_policy_naming_a_missing_principal_is_refused(rampart):
    iam = rampart.client("iam")
    for missing in (f"arn:aws:iam::{ACCOUNT_ID}:user/nobody-{uuid.uuid4().hex[:6]}",
                    f"arn:aws:iam::{ACCOUNT_ID}:role/nothing-{uuid.uuid4().hex[:6]}"):
        trust = document([{"Effect": "Allow", "Principal": {"AWS": [missing]},
                           "Action": "sts:AssumeRole"}])
        refused = error_of(lambda: iam.create_role(
            RoleName=f"r-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument=trust))
        assert refused["Code"] == "MalformedPolicyDocument"
        assert refused["Message"] == f'Invalid principal in policy: "AWS":"{missing}"'
    # The account itself, and another account's principals, are accepted as before.
    trust = document([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": [
        f"arn:aws:iam::{ACCOUNT_ID}:root", "arn:aws:iam::111122223333:role/Elsewhere"]}}])
    iam.create_role(RoleName=f"r-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument=trust)


def key_policy(*principals):
    return document([
        {"Sid": "Admin", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": list(principals)},
         "Action": "kms:Encrypt", "Resource": "*"},
    ])


def test_a_key_policy_binds_its_users_and_follows_a_rename(rampart):
    iam, kms = rampart.client("iam"), rampart.client("kms")
    carol = f"carol-{uuid.uuid4().hex[:6]}"
    carol_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{carol}"
    # Carol has no IAM policy: only the key policy lets her encrypt.
    old_id, old_carol = make_user(iam, rampart, carol)
    key = kms.create_key(Policy=key_policy(carol_arn))["KeyMetadata"]["Arn"]
    old_carol("kms").encrypt(KeyId=key, Plaintext=b"x")

    # Renamed, she is the same principal: still allowed, and shown under her new ARN.
    renamed = f"{carol}-2"
    iam.update_user(UserName=carol, NewUserName=renamed)
    old_carol("kms").encrypt(KeyId=key, Plaintext=b"x")
    shown = json.loads(kms.get_key_policy(KeyId=key)["Policy"])
    assert shown["Statement"][1]["Principal"]["AWS"] == [
        f"arn:aws:iam::{ACCOUNT_ID}:user/{renamed}"]

    # Deleted, and a new user takes her old name: the key policy does not name the newcomer.
    delete_user(iam, renamed)
    new_id, new_carol = make_user(iam, rampart, carol)
    assert new_id != old_id
    denied = error_of(lambda: new_carol("kms").encrypt(KeyId=key, Plaintext=b"x"))
    assert denied["Code"] == "AccessDeniedException"
    shown = json.loads(kms.get_key_policy(KeyId=key)["Policy"])
    assert shown["Statement"][1]["Principal"]["AWS"] == [old_id]
    refused = error_of(lambda: kms.put_key_policy(KeyId=key, PolicyName="default",
                                                  Policy=json.dumps(shown)))
    assert refused["Code"] == "MalformedPolicyDocumentException"
    assert refused["Message"] == "Policy contains a statement with one or more invalid principals."
    # A principal that does not exist is refused; naming carol again lets the newcomer in.
    missing = f"arn:aws:iam::{ACCOUNT_ID}:user/nobody-{uuid.uuid4().hex[:6]}"
    refused = error_of(lambda: kms.put_key_policy(KeyId=key, PolicyName="default",
                                                  Policy=key_policy(missing)))
    assert refused["Code"] == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=key_policy(carol_arn))
    new_carol("kms").encrypt(KeyId=key, Plaintext=b"x")


def test_a_recreated_role_is_not_the_role_a_key_policy_names(rampart):
    iam, kms = rampart.client("iam"), rampart.client("kms")
    role = f"app-{uuid.uuid4().hex[:6]}"
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    trust = document([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                       "Action": "sts:AssumeRole"}])
    may_assume = document([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    _, assumer = make_user(iam, rampart, f"assumer-{uuid.uuid4().hex[:6]}", may_assume)

    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    key = kms.create_key(Policy=key_policy(role_arn))["KeyMetadata"]["Arn"]

    def session_kms():
        creds = assumer("sts").assume_role(
            RoleArn=role_arn, RoleSessionName="ss")["Credentials"]
        return boto3.client("kms", endpoint_url=rampart.endpoint, region_name="us-east-1",
                            aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"])

    session_kms().encrypt(KeyId=key, Plaintext=b"x")
    iam.delete_role(RoleName=role)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    denied = error_of(lambda: session_kms().encrypt(KeyId=key, Plaintext=b"x"))
    assert denied["Code"] == "AccessDeniedException"
    shown = json.loads(kms.get_key_policy(KeyId=key)["Policy"])
    assert shown["Statement"][1]["Principal"]["AWS"][0].startswith("AROA")
