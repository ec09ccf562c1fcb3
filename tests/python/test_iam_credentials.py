"""IAM credentials end to end: the password policy, login profiles, virtual MFA devices with
TOTP codes computed here, the credential report, the account alias and the account summary,
through boto3 and the AWS CLI against a real rampart process."""

import base64
import csv
import hashlib
import hmac
import io
import json
import struct
import time

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, totp

GOOD_PASSWORD = "Correct-Horse-42-battery"


def test_totp_matches_rfc_6238_vectors():
    # RFC 6238 appendix B, SHA-1 seed "12345678901234567890", 8 digits.
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert totp(seed, 59, digits=8) == "94287082"
    assert totp(seed, 1111111109, digits=8) == "07081804"


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]


@pytest.fixture(scope="module")
def iam(rampart):
    return rampart.client("iam")


def test_password_policy_round_trip(iam, rampart):
    err = error_of(iam.get_account_password_policy)
    assert err["Code"] == "NoSuchEntity"
    assert err["Message"] == (
        f"The Password Policy with domain name {ACCOUNT_ID} cannot be found.")
    iam.update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True,
        RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True, MaxPasswordAge=90, PasswordReusePrevention=3)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14
    assert policy["RequireSymbols"] and policy["RequireUppercaseCharacters"]
    assert policy["ExpirePasswords"] is True
    assert policy["MaxPasswordAge"] == 90
    assert policy["PasswordReusePrevention"] == 3
    out = rampart.aws("iam", "get-account-password-policy")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["PasswordPolicy"]["MinimumPasswordLength"] == 14


def test_login_profiles_are_refused_by_the_policy(iam):
    iam.update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True,
        RequireUppercaseCharacters=True, RequireLowercaseCharacters=True)
    iam.create_user(UserName="console-bob")
    cases = [
        ("Short1!a", "Password should have a minimum length of 14"),
        ("alllowercase1!xyz", "Password should have at least one uppercase letter"),
        ("NoNumbersHere!xyz", "Password should have at least one number"),
        ("NoSymbolsHere123", "Password should have at least one symbol"),
    ]
    for password, message in cases:
        err = error_of(iam.create_login_profile, UserName="console-bob", Password=password)
        assert (err["Code"], err["Message"]) == ("PasswordPolicyViolation", message)
    error = error_of(iam.get_login_profile, UserName="console-bob")
    assert error["Message"] == "Login Profile for User console-bob cannot be found."
    made = iam.create_login_profile(
        UserName="console-bob", Password=GOOD_PASSWORD, PasswordResetRequired=True)
    assert made["LoginProfile"]["UserName"] == "console-bob"
    assert made["LoginProfile"]["PasswordResetRequired"] is True
    err = error_of(iam.create_login_profile, UserName="console-bob", Password=GOOD_PASSWORD)
    assert err["Code"] == "EntityAlreadyExists"
    iam.update_login_profile(UserName="console-bob", PasswordResetRequired=False)
    got = iam.get_login_profile(UserName="console-bob")["LoginProfile"]
    assert got["PasswordResetRequired"] is False
    # A user with a console password cannot be deleted until the password is.
    assert error_of(iam.delete_user, UserName="console-bob")["Code"] == "DeleteConflict"
    iam.delete_login_profile(UserName="console-bob")
    iam.delete_user(UserName="console-bob")
    iam.delete_account_password_policy()
    err = error_of(iam.delete_account_password_policy)
    assert err["Code"] == "NoSuchEntity"


def test_virtual_mfa_enable_with_two_codes_and_no_replay(iam, rampart):
    iam.create_user(UserName="mfa-alice")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")[
        "VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT_ID}:mfa/alice-phone"
    seed = device["Base32StringSeed"].decode()
    assert len(seed) == 64
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    err = error_of(iam.create_virtual_mfa_device, VirtualMFADeviceName="alice-phone")
    assert err["Code"] == "EntityAlreadyExists"

    now = time.time()
    wrong = error_of(iam.enable_mfa_device, UserName="mfa-alice", SerialNumber=serial,
                     AuthenticationCode1=totp(seed, now), AuthenticationCode2=totp(seed, now))
    assert wrong["Code"] == "InvalidAuthenticationCode"
    assert wrong["Message"] == "Authentication code for device is not valid."
    code1, code2 = totp(seed, now - 30), totp(seed, now)
    iam.enable_mfa_device(UserName="mfa-alice", SerialNumber=serial,
                          AuthenticationCode1=code1, AuthenticationCode2=code2)

    listed = iam.list_mfa_devices(UserName="mfa-alice")["MFADevices"]
    assert [d["SerialNumber"] for d in listed] == [serial]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [(d["SerialNumber"], d["User"]["UserName"]) for d in assigned] == [
        (serial, "mfa-alice")]
    assert "Base32StringSeed" not in assigned[0]
    out = rampart.aws("iam", "list-virtual-mfa-devices", "--assignment-status", "Unassigned")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["VirtualMFADevices"] == []

    err = error_of(iam.delete_virtual_mfa_device, SerialNumber=serial)
    assert (err["Code"], err["Message"]) == (
        "DeleteConflict", "MFA VirtualDevice in use. Must deactivate first.")

    # Deactivated, the device can be enabled again, but not with codes already used.
    iam.deactivate_mfa_device(UserName="mfa-alice", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="mfa-alice")["MFADevices"] == []
    replay = error_of(iam.enable_mfa_device, UserName="mfa-alice", SerialNumber=serial,
                      AuthenticationCode1=code1, AuthenticationCode2=code2)
    assert replay["Code"] == "InvalidAuthenticationCode"
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    err = error_of(iam.delete_virtual_mfa_device, SerialNumber=serial)
    assert err["Code"] == "NoSuchEntity"
    iam.delete_user(UserName="mfa-alice")


def test_credential_report_is_aws_csv(iam):
    err = error_of(iam.get_credential_report)
    assert err["Code"] == "ReportNotPresent"
    iam.create_user(UserName="report-carol")
    started = iam.generate_credential_report()
    assert started["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    assert "GeneratedTime" in report
    rows = list(csv.reader(io.StringIO(report["Content"].decode())))
    assert rows[0] == [
        "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
        "password_last_changed", "password_next_rotation", "mfa_active",
        "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
        "access_key_1_last_used_region", "access_key_1_last_used_service",
        "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
        "access_key_2_last_used_region", "access_key_2_last_used_service",
        "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
    ]
    root = dict(zip(rows[0], rows[1]))
    assert root["user"] == "<root_account>"
    assert root["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"
    assert root["password_enabled"] == "not_supported"
    # The root key this suite signs with is active and has been used.
    assert root["access_key_1_active"] == "true"
    assert root["access_key_1_last_rotated"].endswith("+00:00")
    carol = next(dict(zip(rows[0], r)) for r in rows[2:] if r[0] == "report-carol")
    assert carol["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/report-carol"
    assert (carol["password_enabled"], carol["password_last_used"]) == ("false", "N/A")
    assert (carol["mfa_active"], carol["access_key_1_active"]) == ("false", "false")
    assert carol["cert_2_last_rotated"] == "N/A"


def test_account_alias(iam, rampart):
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias="rampart-test-co")
    assert iam.list_account_aliases()["AccountAliases"] == ["rampart-test-co"]
    out = rampart.aws("iam", "list-account-aliases")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AccountAliases"] == ["rampart-test-co"]
    err = error_of(iam.delete_account_alias, AccountAlias="not-ours")
    assert err["Code"] == "NoSuchEntity"
    iam.delete_account_alias(AccountAlias="rampart-test-co")
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_account_summary(iam):
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["UsersQuota"] == 5000
    assert summary["GroupsQuota"] == 300
    assert summary["RolesQuota"] == 1000
    assert summary["PoliciesQuota"] == 1500
    assert summary["AccessKeysPerUserQuota"] == 2
    assert summary["AttachedPoliciesPerUserQuota"] == 10
    assert summary["AccountMFAEnabled"] == 0
    assert summary["AccountAccessKeysPresent"] == 1
    assert summary["Users"] == len(iam.list_users()["Users"])
    assert summary["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    bad = error_of(iam.set_security_token_service_preferences, GlobalEndpointTokenVersion="v3Token")
    assert bad["Code"] == "ValidationError"
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")


def test_an_iam_user_changes_their_own_password(iam, rampart):
    iam.update_account_password_policy(
        MinimumPasswordLength=12, AllowUsersToChangePassword=True, PasswordReusePrevention=2)
    iam.create_user(UserName="self-service")
    iam.create_login_profile(UserName="self-service", Password=GOOD_PASSWORD)
    # AllowUsersToChangePassword is AWS's implicit grant; an explicit one (what AWS's
    # IAMUserChangePassword policy holds) makes the test independent of it.
    iam.put_user_policy(UserName="self-service", PolicyName="change-own-password",
                        PolicyDocument=json.dumps({
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Effect": "Allow", "Action": "iam:ChangePassword",
                                "Resource": f"arn:aws:iam::{ACCOUNT_ID}:user/self-service",
                            }],
                        }))
    key = iam.create_access_key(UserName="self-service")["AccessKey"]
    as_user = rampart.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    err = error_of(as_user.change_password, OldPassword="not-the-password-1A",
                   NewPassword="Brand-New-Pass-77")
    assert err["Code"] == "InvalidUserType"
    err = error_of(as_user.change_password, OldPassword=GOOD_PASSWORD,
                   NewPassword=GOOD_PASSWORD)
    assert err["Code"] == "PasswordPolicyViolation"
    as_user.change_password(OldPassword=GOOD_PASSWORD, NewPassword="Brand-New-Pass-77")
    # The root user has no IAM password to change.
    err = error_of(iam.change_password, OldPassword="x" * 12, NewPassword="y" * 12)
    assert err["Code"] == "InvalidUserType"
