"""Users end to end: renames carry everything a user owns; a user changes its own password
when the account's password policy allows it, without any policy of its own."""

import uuid

import botocore.exceptions
import pytest


def test_a_rename_carries_keys_login_profile_and_groups(rampart):
    iam = rampart.client("iam")
    old, new = f"old-{uuid.uuid4().hex[:6]}", f"new-{uuid.uuid4().hex[:6]}"
    group = f"g-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=old)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=old)
    key = iam.create_access_key(UserName=old)["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName=old, Password="Correct-Horse-9-Battery")
    iam.update_user(UserName=old, NewUserName=new)
    assert iam.get_login_profile(UserName=new)["LoginProfile"]["UserName"] == new
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=new)["AccessKeyMetadata"]] == [key]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=new)["Groups"]] == [group]
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [new]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.get_login_profile(UserName=old)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchEntity"


def test_users_change_their_own_password_when_the_policy_allows(rampart):
    iam = rampart.client("iam")
    name = f"u-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="First-Password-1")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = rampart.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])

    iam.update_account_password_policy(AllowUsersToChangePassword=False)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        as_user.change_password(OldPassword="First-Password-1", NewPassword="Second-Password-2")
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"

    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    as_user.change_password(OldPassword="First-Password-1", NewPassword="Second-Password-2")
    assert as_user.get_account_password_policy()["PasswordPolicy"]["AllowUsersToChangePassword"]
    # Only its own password: another user's stays out of reach.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        as_user.list_users()
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    iam.delete_account_password_policy()
