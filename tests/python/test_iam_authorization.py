"""IAM authorization on every call: what a user's policies say is what happens."""

import json
import uuid

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


@pytest.fixture
def user(rampart):
    """A fresh IAM user with an access key, and clients signed as that user."""
    iam = rampart.client("iam")
    name = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]

    class User:
        pass

    u = User()
    u.name = name
    u.arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    u.key_id = key["AccessKeyId"]
    u.iam = rampart.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    u.sts = rampart.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    return u


def denied(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return excinfo.value.response["Error"]["Message"]


def test_a_user_key_identifies_the_user(user):
    me = user.sts.get_caller_identity()
    assert me["Arn"] == user.arn
    assert me["UserId"].startswith("AIDA")


def test_a_new_user_can_do_nothing(user):
    message = denied(lambda: user.iam.list_users())
    assert message == (
        f"User: {user.arn} is not authorized to perform: iam:ListUsers on resource: "
        f"arn:aws:iam::{ACCOUNT_ID}:user/ because no identity-based policy allows the "
        "iam:ListUsers action"
    )


def test_an_inline_policy_takes_effect_on_the_next_call(rampart, user):
    iam = rampart.client("iam")
    denied(lambda: user.iam.list_users())
    iam.put_user_policy(UserName=user.name, PolicyName="list", PolicyDocument=policy(allow("iam:ListUsers")))
    assert any(u["UserName"] == user.name for u in user.iam.list_users()["Users"])
    iam.put_user_policy(UserName=user.name, PolicyName="nolist", PolicyDocument=policy(deny("iam:List*")))
    message = denied(lambda: user.iam.list_users())
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_group_policies_apply_to_members(rampart, user):
    iam = rampart.client("iam")
    group = f"g-{uuid.uuid4().hex[:8]}"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=policy(allow("iam:GetUser")))
    denied(lambda: user.iam.get_user(UserName=user.name))
    iam.add_user_to_group(GroupName=group, UserName=user.name)
    assert user.iam.get_user(UserName=user.name)["User"]["UserName"] == user.name
    iam.remove_user_from_group(GroupName=group, UserName=user.name)
    denied(lambda: user.iam.get_user(UserName=user.name))


def test_a_permissions_boundary_caps_what_policies_grant(rampart, user):
    iam = rampart.client("iam")
    iam.put_user_policy(UserName=user.name, PolicyName="all", PolicyDocument=policy(allow("iam:*")))
    boundary = iam.create_policy(
        PolicyName=f"b-{uuid.uuid4().hex[:8]}", PolicyDocument=policy(allow("iam:GetUser"))
    )["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=boundary)
    assert user.iam.get_user(UserName=user.name)["User"]["UserName"] == user.name
    message = denied(lambda: user.iam.list_users())
    assert message.endswith("because no permissions boundary allows the iam:ListUsers action")


def test_conditions_on_source_ip(rampart, user):
    iam = rampart.client("iam")
    iam.put_user_policy(
        UserName=user.name,
        PolicyName="from-office",
        PolicyDocument=policy(allow("iam:ListUsers", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
    )
    denied(lambda: user.iam.list_users())
    iam.put_user_policy(
        UserName=user.name,
        PolicyName="from-office",
        PolicyDocument=policy(allow("iam:ListUsers", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})),
    )
    user.iam.list_users()


def test_conditions_on_current_time(rampart, user):
    iam = rampart.client("iam")
    iam.put_user_policy(
        UserName=user.name,
        PolicyName="later",
        PolicyDocument=policy(allow("iam:ListUsers", Condition={"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}})),
    )
    denied(lambda: user.iam.list_users())
    iam.put_user_policy(
        UserName=user.name,
        PolicyName="later",
        PolicyDocument=policy(allow("iam:ListUsers", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})),
    )
    user.iam.list_users()


def test_an_inactive_key_is_refused(rampart, user):
    user.sts.get_caller_identity()
    rampart.client("iam").update_access_key(UserName=user.name, AccessKeyId=user.key_id, Status="Inactive")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        user.sts.get_caller_identity()
    assert excinfo.value.response["Error"]["Code"] in ("AccessDenied", "InvalidClientTokenId")


def test_simulation_equals_the_live_decision(rampart, user):
    iam = rampart.client("iam")
    group = f"g-{uuid.uuid4().hex[:8]}"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=policy(allow("iam:Get*")))
    iam.add_user_to_group(GroupName=group, UserName=user.name)
    iam.put_user_policy(
        UserName=user.name,
        PolicyName="mixed",
        PolicyDocument=policy(allow("iam:ListUsers"), deny("iam:GetRole")),
    )
    boundary = iam.create_policy(
        PolicyName=f"b-{uuid.uuid4().hex[:8]}",
        PolicyDocument=policy(allow("iam:ListUsers"), allow("iam:GetUser"), allow("iam:GetRole")),
    )["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=boundary)

    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}"
    live_calls = {
        "iam:ListUsers": (lambda: user.iam.list_users(), f"arn:aws:iam::{ACCOUNT_ID}:user/"),
        "iam:GetUser": (lambda: user.iam.get_user(UserName=user.name), user_arn),
        "iam:GetRole": (lambda: user.iam.get_role(RoleName="nope"), f"arn:aws:iam::{ACCOUNT_ID}:role/nope"),
        "iam:GetGroup": (lambda: user.iam.get_group(GroupName=group), f"arn:aws:iam::{ACCOUNT_ID}:group/{group}"),
        "iam:CreateUser": (lambda: user.iam.create_user(UserName=f"x-{uuid.uuid4().hex[:6]}"), f"arn:aws:iam::{ACCOUNT_ID}:user/x"),
    }
    for action, (call, resource) in live_calls.items():
        simulated = iam.simulate_principal_policy(
            PolicySourceArn=user_arn,
            ActionNames=[action],
            ResourceArns=[resource],
            ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["127.0.0.1"], "ContextKeyType": "ip"}],
        )["EvaluationResults"][0]["EvalDecision"]
        try:
            call()
            live = "allowed"
        except botocore.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
            # A call that passed authorization may still fail in its handler (no such role).
            live = "denied" if code == "AccessDenied" else "allowed"
        assert (simulated == "allowed") == (live == "allowed"), (action, simulated, live)
    # And the decisions are the interesting ones: the boundary and the explicit deny both bite.
    results = {
        r["EvalActionName"]: r["EvalDecision"]
        for r in iam.simulate_principal_policy(
            PolicySourceArn=user_arn, ActionNames=["iam:GetRole", "iam:GetGroup", "iam:GetUser"]
        )["EvaluationResults"]
    }
    assert results == {"iam:GetRole": "explicitDeny", "iam:GetGroup": "implicitDeny", "iam:GetUser": "allowed"}


def test_conditions_on_the_resource_tags_of_users_and_roles(rampart, user):
    iam = rampart.client("iam")
    tagged, untagged = f"t-{uuid.uuid4().hex[:6]}", f"n-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=tagged, Tags=[{"Key": "team", "Value": "blue"}])
    iam.create_user(UserName=untagged)
    iam.put_user_policy(
        UserName=user.name,
        PolicyName="blue-only",
        PolicyDocument=policy(
            allow("iam:GetUser", Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}})
        ),
    )
    assert user.iam.get_user(UserName=tagged)["User"]["UserName"] == tagged
    denied(lambda: user.iam.get_user(UserName=untagged))
