"""STS sessions end to end: AssumeRole (trust policies, external IDs, session policies,
durations, role chaining), GetSessionToken with MFA, GetFederationToken, and the AWS CLI's
own role profiles."""

import json
import os
import subprocess
import time
import uuid

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, totp


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


class Principal:
    """An IAM user with a key, and clients signed as it."""

    def __init__(self, rampart, policy=None):
        iam = rampart.client("iam")
        self.name = f"u-{uuid.uuid4().hex[:8]}"
        self.arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{self.name}"
        iam.create_user(UserName=self.name)
        if policy:
            iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=policy)
        key = iam.create_access_key(UserName=self.name)["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.sts = rampart.client("sts", key=self.key_id, secret=self.secret)


def make_role(rampart, trust_principal, policy=None, trust_condition=None, max_session=3600):
    iam = rampart.client("iam")
    name = f"r-{uuid.uuid4().hex[:8]}"
    statement = {"Effect": "Allow", "Principal": {"AWS": trust_principal}, "Action": "sts:AssumeRole"}
    if trust_condition:
        statement["Condition"] = trust_condition
    arn = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=doc(statement), MaxSessionDuration=max_session
    )["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    return name, arn


def session_client(rampart, service, credentials):
    import boto3

    return boto3.client(
        service, endpoint_url=rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_a_user_assumes_a_role_its_trust_policy_names(rampart):
    user = Principal(rampart)
    role, role_arn = make_role(rampart, user.arn, policy=doc(allow("iam:ListRoles")))
    out = user.sts.assume_role(RoleArn=role_arn, RoleSessionName="alice")
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/alice"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice")
    # With no session policy or tag, AWS leaves PackedPolicySize out.
    assert "PackedPolicySize" not in out
    me = session_client(rampart, "sts", out["Credentials"]).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert me["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    iam = session_client(rampart, "iam", out["Credentials"])
    assert "Roles" in iam.list_roles()
    denied = error_of(lambda: iam.list_users())
    assert denied["Code"] == "AccessDenied"
    assert f"assumed-role/{role}/alice is not authorized to perform: iam:ListUsers" in denied["Message"]


def test_a_trust_policy_that_names_someone_else_refuses(rampart):
    user, other = Principal(rampart), Principal(rampart)
    _, role_arn = make_role(rampart, other.arn)
    assert error_of(lambda: user.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess"))["Code"] == "AccessDenied"


def test_the_account_principal_delegates_to_identity_policies(rampart):
    without = Principal(rampart)
    _, role_arn = make_role(rampart, f"arn:aws:iam::{ACCOUNT_ID}:root")
    assert error_of(lambda: without.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess"))["Code"] == "AccessDenied"
    with_policy = Principal(rampart, policy=doc(allow("sts:AssumeRole", role_arn)))
    with_policy.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess")


def test_an_external_id_condition(rampart):
    user = Principal(rampart)
    _, role_arn = make_role(rampart, user.arn, trust_condition={"StringEquals": {"sts:ExternalId": "xyzzy"}})
    assert error_of(lambda: user.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess"))["Code"] == "AccessDenied"
    user.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess", ExternalId="xyzzy")


def test_root_may_not_assume_roles(rampart):
    _, role_arn = make_role(rampart, f"arn:aws:iam::{ACCOUNT_ID}:root")
    error = error_of(lambda: rampart.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="sess"))
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == "Roles may not be assumed by root accounts."


def test_durations_are_capped_by_the_role_and_by_chaining(rampart):
    user = Principal(rampart)
    _, first = make_role(rampart, user.arn, max_session=7200)
    error = error_of(lambda: user.sts.assume_role(RoleArn=first, RoleSessionName="sess", DurationSeconds=10800))
    assert error["Code"] == "ValidationError"
    out = user.sts.assume_role(RoleArn=first, RoleSessionName="sess", DurationSeconds=7200)
    # The first role may assume the second: a role chain.
    _, second = make_role(rampart, first, max_session=43200)
    chained = session_client(rampart, "sts", out["Credentials"])
    error = error_of(lambda: chained.assume_role(RoleArn=second, RoleSessionName="chain", DurationSeconds=7200))
    assert error["Message"] == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    )


def test_a_session_policy_narrows_the_role(rampart):
    user = Principal(rampart)
    _, role_arn = make_role(rampart, user.arn, policy=doc(allow("iam:*")))
    out = user.sts.assume_role(
        RoleArn=role_arn, RoleSessionName="narrow", Policy=doc(allow("iam:ListRoles"))
    )
    assert 0 < out["PackedPolicySize"] < 100
    iam = session_client(rampart, "iam", out["Credentials"])
    iam.list_roles()
    denied = error_of(lambda: iam.list_users())
    assert denied["Message"].endswith("because no session policy allows the iam:ListUsers action")


def test_a_tampered_session_token_is_refused(rampart):
    user = Principal(rampart)
    _, role_arn = make_role(rampart, user.arn)
    credentials = user.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess")["Credentials"]
    token = credentials["SessionToken"]
    middle = len(token) // 2
    credentials["SessionToken"] = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    error = error_of(lambda: session_client(rampart, "sts", credentials).get_caller_identity())
    assert error["Code"] == "InvalidClientTokenId"


def test_get_session_token_with_mfa_satisfies_an_mfa_condition(rampart):
    iam = rampart.client("iam")
    user = Principal(
        rampart,
        policy=doc(allow("iam:ListRoles", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
    )
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"mfa-{user.name}")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = time.time()
    iam.enable_mfa_device(
        UserName=user.name, SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(seed, now - 30), AuthenticationCode2=totp(seed, now),
    )
    plain = user.sts.get_session_token()["Credentials"]
    # Without MFA, IAM does not take GetSessionToken's credentials at all, as AWS documents.
    assert error_of(lambda: session_client(rampart, "iam", plain).list_roles())["Code"] == "InvalidClientTokenId"
    # The code of the next 30-second step: the current one was used to enable the device.
    with_mfa = user.sts.get_session_token(
        SerialNumber=device["SerialNumber"], TokenCode=totp(seed, now + 30)
    )["Credentials"]
    assert session_client(rampart, "sts", with_mfa).get_caller_identity()["Arn"] == user.arn
    session_client(rampart, "iam", with_mfa).list_roles()


def test_a_federated_user_has_what_both_policies_allow(rampart):
    user = Principal(rampart, policy=doc(allow("sts:GetFederationToken"), allow("kms:List*")))
    out = user.sts.get_federation_token(Name="bob", Policy=doc(allow("kms:ListKeys")))
    assert out["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:federated-user/bob"
    kms = session_client(rampart, "kms", out["Credentials"])
    kms.list_keys()
    assert error_of(lambda: kms.list_aliases())["Code"] == "AccessDeniedException"
    no_policy = user.sts.get_federation_token(Name="nobody")["Credentials"]
    assert error_of(lambda: session_client(rampart, "kms", no_policy).list_keys())["Code"] == "AccessDeniedException"


def test_the_cli_assumes_a_role_from_a_profile(rampart, tmp_path):
    user = Principal(rampart)
    role, role_arn = make_role(rampart, user.arn)
    (tmp_path / "credentials").write_text(
        f"[base]\naws_access_key_id = {user.key_id}\naws_secret_access_key = {user.secret}\n"
    )
    (tmp_path / "config").write_text(
        "[profile base]\nregion = us-east-1\n"
        f"[profile role]\nregion = us-east-1\nrole_arn = {role_arn}\nsource_profile = base\n"
        "role_session_name = cli\n"
    )
    env = dict(
        os.environ,
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        # The CLI's own AssumeRole call (made by its credential provider) must reach Rampart too.
        AWS_ENDPOINT_URL=rampart.endpoint,
    )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(var, None)
    result = subprocess.run(
        ["aws", "--profile", "role", "--endpoint-url", rampart.endpoint, "sts", "get-caller-identity"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/cli"


def test_the_cli_assumes_a_role_with_mfa_from_a_profile(rampart, tmp_path):
    iam = rampart.client("iam")
    user = Principal(rampart)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"mfa-{user.name}")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = time.time()
    iam.enable_mfa_device(
        UserName=user.name, SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(seed, now - 30), AuthenticationCode2=totp(seed, now),
    )
    role, role_arn = make_role(
        rampart, user.arn, trust_condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    )
    # Without a code the trust policy's MFA condition refuses.
    assert error_of(lambda: user.sts.assume_role(RoleArn=role_arn, RoleSessionName="sess"))["Code"] == "AccessDenied"
    (tmp_path / "credentials").write_text(
        f"[base]\naws_access_key_id = {user.key_id}\naws_secret_access_key = {user.secret}\n"
    )
    (tmp_path / "config").write_text(
        "[profile base]\nregion = us-east-1\n"
        f"[profile mfa]\nregion = us-east-1\nrole_arn = {role_arn}\nsource_profile = base\n"
        f"mfa_serial = {device['SerialNumber']}\nrole_session_name = with-mfa\n"
    )
    env = dict(
        os.environ,
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_ENDPOINT_URL=rampart.endpoint,
    )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(var, None)
    # The CLI prompts for the code; the test answers with the next 30-second step's code
    # (the current one was used to enable the device).
    result = subprocess.run(
        ["aws", "--profile", "mfa", "--endpoint-url", rampart.endpoint, "sts", "get-caller-identity"],
        input=totp(seed, now + 30) + "\n", capture_output=True, text=True, env=env,
        start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/with-mfa"


def test_decode_authorization_message_needs_permission_and_a_message_of_rampart(rampart):
    without = Principal(rampart)
    denied = error_of(lambda: without.sts.decode_authorization_message(EncodedMessage="x" * 20))
    assert denied["Code"] == "AccessDenied"
    assert "sts:DecodeAuthorizationMessage" in denied["Message"]
    allowed = Principal(rampart, policy=doc(allow("sts:DecodeAuthorizationMessage")))
    invalid = error_of(lambda: allowed.sts.decode_authorization_message(EncodedMessage="x" * 20))
    assert invalid["Code"] == "InvalidAuthorizationMessageException"
