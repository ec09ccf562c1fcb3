"""A trail delivered to CloudWatch Logs, end to end with boto3, set up as AWS's CloudTrail
guide shows it (a log group, a role CloudTrail may assume with CreateLogStream and
PutLogEvents on the trail's stream, CreateTrail with both ARNs): calls arrive in the stream
`<account>_CloudTrail_<region>` as their CloudTrail records, read back with GetLogEvents and
FilterLogEvents; CreateTrail refuses a role CloudTrail may not assume or that may not write to
the group; a permission taken away later fails delivery visibly in GetTrailStatus, and the
events missed meanwhile arrive, once, when it is given back; an SCP denying
logs:PutLogEvents stops a member account's delivery."""

import json
import os
import uuid

import boto3
import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, Rampart, wait_for

REGION = "us-east-1"
GROUP = "CloudTrail/logs"
ROLE = "CloudTrail_CloudWatchLogs_Role"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


def client(server, service, key, secret, token=None):
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
    )


def stream_of(account):
    return f"{account}_CloudTrail_{REGION}"


def group_arn(account, group=GROUP):
    return f"arn:aws:logs:{REGION}:{account}:log-group:{group}:*"


TRUST = doc({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "sts:AssumeRole"})


def delivery_policy(account, group=GROUP):
    """The role policy of AWS's guide: CreateLogStream and PutLogEvents on the trail's stream."""
    streams = f"arn:aws:logs:{REGION}:{account}:log-group:{group}:log-stream:{stream_of(account)}*"
    return doc(
        {"Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow",
         "Action": ["logs:CreateLogStream"], "Resource": [streams]},
        {"Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow",
         "Action": ["logs:PutLogEvents"], "Resource": [streams]},
    )


def set_up_delivery(iam, logs, cloudtrail, account, trail, group=GROUP, role=ROLE):
    logs.create_log_group(logGroupName=group)
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="cloudtrail-delivery",
                        PolicyDocument=delivery_policy(account, group))
    created = cloudtrail.create_trail(
        Name=trail, S3BucketName=f"{trail}-bucket",
        CloudWatchLogsLogGroupArn=group_arn(account, group), CloudWatchLogsRoleArn=role_arn)
    cloudtrail.start_logging(Name=trail)
    return created, role_arn


def records(logs, account, group=GROUP):
    """Every record in the trail's stream, oldest first."""
    out, token = [], None
    while True:
        args = {"logGroupName": group, "logStreamName": stream_of(account), "startFromHead": True}
        if token:
            args["nextToken"] = token
        page = logs.get_log_events(**args)
        out.extend(page["events"])
        if page["nextForwardToken"] == token or not page["events"]:
            return out
        token = page["nextForwardToken"]


def users_created(logs, account, name, group=GROUP):
    found = logs.filter_log_events(
        logGroupName=group,
        filterPattern=f'{{ ($.eventName = "CreateUser") && ($.requestParameters.userName = "{name}") }}',
    )["events"]
    return [json.loads(e["message"]) for e in found]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    saved = dict(os.environ)
    # CloudTrail's session of the role ends after a second here (an hour by default), so a
    # trust policy changed is seen at once.
    os.environ.update(RAMPART_TRAIL_LOGS_DELIVERY_SECONDS="0.3",
                      RAMPART_TRAIL_LOGS_SESSION_SECONDS="1")
    try:
        rampart = Rampart(tmp_path_factory.mktemp("trail-logs"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield rampart
    rampart.stop()


@pytest.fixture(scope="module")
def trail(server):
    created, role_arn = set_up_delivery(server.client("iam"), server.client("logs"),
                                        server.client("cloudtrail"), ACCOUNT_ID, "to-logs")
    return {"name": "to-logs", "created": created, "role_arn": role_arn}


def test_calls_arrive_in_the_trails_stream_as_their_records(server, trail):
    iam, logs, cloudtrail = server.client("iam"), server.client("logs"), server.client("cloudtrail")
    assert trail["created"]["CloudWatchLogsLogGroupArn"] == group_arn(ACCOUNT_ID)
    assert trail["created"]["CloudWatchLogsRoleArn"] == trail["role_arn"]
    shown = cloudtrail.get_trail(Name="to-logs")["Trail"]
    assert shown["CloudWatchLogsLogGroupArn"] == group_arn(ACCOUNT_ID)
    assert shown["CloudWatchLogsRoleArn"] == trail["role_arn"]
    described = cloudtrail.describe_trails(trailNameList=["to-logs"])["trailList"][0]
    assert described["CloudWatchLogsRoleArn"] == trail["role_arn"]

    name = f"probe-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    found = wait_for(lambda: users_created(logs, ACCOUNT_ID, name), timeout=30)
    assert len(found) == 1
    record = found[0]
    assert record["eventSource"] == "iam.amazonaws.com"
    assert record["recipientAccountId"] == ACCOUNT_ID

    # The stream CloudTrail made, named as AWS names it; each log event is one record, stamped
    # with its eventTime.
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream_of(ACCOUNT_ID)]
    events = records(logs, ACCOUNT_ID)
    mine = [e for e in events if json.loads(e["message"]).get("eventID") == record["eventID"]]
    assert len(mine) == 1
    import datetime
    at = datetime.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    assert mine[0]["timestamp"] == int(at.timestamp() * 1000)
    # In time order.
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    # CloudTrail's own CloudWatch Logs calls are never sent back into the group.
    for event in events:
        body = json.loads(event["message"])
        assert not (body["eventSource"] == "logs.amazonaws.com"
                    and body["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com"), body

    status = cloudtrail.get_trail_status(Name="to-logs")
    assert "LatestCloudWatchLogsDeliveryTime" in status
    assert "LatestCloudWatchLogsDeliveryError" not in status


def test_create_trail_checks_the_group_and_the_role(server, trail):
    iam, cloudtrail = server.client("iam"), server.client("cloudtrail")
    # A role CloudTrail may not assume.
    untrusted = iam.create_role(
        RoleName="not-for-cloudtrail",
        AssumeRolePolicyDocument=doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="not-for-cloudtrail", PolicyName="p",
                        PolicyDocument=delivery_policy(ACCOUNT_ID))
    err = error_of(lambda: cloudtrail.create_trail(
        Name="refused", S3BucketName="refused-bucket", CloudWatchLogsLogGroupArn=group_arn(ACCOUNT_ID),
        CloudWatchLogsRoleArn=untrusted))
    assert err["Code"] == "InvalidCloudWatchLogsRoleArnException"
    assert err["Message"] == "Access denied. Verify in IAM that the role has adequate trust relationships."
    # A role CloudTrail may assume, that may not write to the group.
    powerless = iam.create_role(RoleName="powerless", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    err = error_of(lambda: cloudtrail.create_trail(
        Name="refused", S3BucketName="refused-bucket", CloudWatchLogsLogGroupArn=group_arn(ACCOUNT_ID),
        CloudWatchLogsRoleArn=powerless))
    assert err["Code"] == "InvalidCloudWatchLogsLogGroupArnException"
    assert err["Message"] == "Access denied. Verify in IAM that the role has adequate permissions."
    # A group that does not exist, an ARN without AWS's `:*`, one of the pair alone.
    for group, code in [
        (group_arn(ACCOUNT_ID, "no/such/group"), "InvalidCloudWatchLogsLogGroupArnException"),
        (group_arn(ACCOUNT_ID)[:-2], "InvalidCloudWatchLogsLogGroupArnException"),
    ]:
        err = error_of(lambda: cloudtrail.create_trail(
            Name="refused", S3BucketName="refused-bucket", CloudWatchLogsLogGroupArn=group,
            CloudWatchLogsRoleArn=trail["role_arn"]))
        assert err["Code"] == code, (group, err)
    err = error_of(lambda: cloudtrail.create_trail(
        Name="refused", S3BucketName="refused-bucket", CloudWatchLogsLogGroupArn=group_arn(ACCOUNT_ID)))
    assert err["Code"] == "InvalidCloudWatchLogsRoleArnException"
    err = error_of(lambda: cloudtrail.create_trail(
        Name="refused", S3BucketName="refused-bucket", CloudWatchLogsRoleArn=trail["role_arn"]))
    assert err["Code"] == "InvalidCloudWatchLogsLogGroupArnException"
    assert not [t for t in cloudtrail.list_trails()["Trails"] if t["Name"] == "refused"]
    # UpdateTrail checks the same way.
    err = error_of(lambda: cloudtrail.update_trail(Name="to-logs", CloudWatchLogsRoleArn=powerless))
    assert err["Code"] == "InvalidCloudWatchLogsLogGroupArnException"
    assert cloudtrail.get_trail(Name="to-logs")["Trail"]["CloudWatchLogsRoleArn"] == trail["role_arn"]


def test_a_permission_taken_away_fails_delivery_and_nothing_is_lost(server, trail):
    iam, logs, cloudtrail = server.client("iam"), server.client("logs"), server.client("cloudtrail")
    iam.delete_role_policy(RoleName=ROLE, PolicyName="cloudtrail-delivery")
    missed = f"missed-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=missed)
    status = wait_for(lambda: (lambda s: s if "LatestCloudWatchLogsDeliveryError" in s else None)(
        cloudtrail.get_trail_status(Name="to-logs")), timeout=30)
    assert status["LatestCloudWatchLogsDeliveryError"] == "AccessDeniedException"
    assert users_created(logs, ACCOUNT_ID, missed) == []

    iam.put_role_policy(RoleName=ROLE, PolicyName="cloudtrail-delivery",
                        PolicyDocument=delivery_policy(ACCOUNT_ID))
    found = wait_for(lambda: users_created(logs, ACCOUNT_ID, missed), timeout=30)
    assert len(found) == 1
    assert "LatestCloudWatchLogsDeliveryError" not in cloudtrail.get_trail_status(Name="to-logs")


def test_a_trust_policy_that_drops_cloudtrail_stops_delivery_until_restored(server, trail):
    iam, logs, cloudtrail = server.client("iam"), server.client("logs"), server.client("cloudtrail")
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    try:
        # CloudTrail's current session may still deliver until it ends; then it cannot assume
        # the role again.
        iam.create_user(UserName=f"trigger-{uuid.uuid4().hex[:8]}")
        status = wait_for(lambda: (lambda s: s if "LatestCloudWatchLogsDeliveryError" in s else None)(
            cloudtrail.get_trail_status(Name="to-logs")), timeout=30)
        assert status["LatestCloudWatchLogsDeliveryError"] == "AccessDenied"
        held = f"untrusted-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=held)
        assert users_created(logs, ACCOUNT_ID, held) == []
        assert "LatestCloudWatchLogsDeliveryError" in cloudtrail.get_trail_status(Name="to-logs")
    finally:
        iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=TRUST)
    assert len(wait_for(lambda: users_created(logs, ACCOUNT_ID, held), timeout=30)) == 1


def test_clearing_both_stops_delivery(server, trail):
    iam, logs, cloudtrail = server.client("iam"), server.client("logs"), server.client("cloudtrail")
    cloudtrail.create_trail(Name="to-clear", S3BucketName="clear-bucket",
                            CloudWatchLogsLogGroupArn=group_arn(ACCOUNT_ID),
                            CloudWatchLogsRoleArn=trail["role_arn"])
    updated = cloudtrail.update_trail(Name="to-clear", CloudWatchLogsLogGroupArn="",
                                      CloudWatchLogsRoleArn="")
    assert "CloudWatchLogsLogGroupArn" not in updated
    assert "CloudWatchLogsRoleArn" not in cloudtrail.get_trail(Name="to-clear")["Trail"]
    cloudtrail.delete_trail(Name="to-clear")


def test_an_scp_denying_put_log_events_stops_a_members_delivery(server):
    orgs = server.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    member = orgs.create_account(Email="logs@example.com", AccountName="logs")[
        "CreateAccountStatus"]["AccountId"]
    # Roles may not be assumed by root users: the management account's administrator goes in.
    iam = server.client("iam")
    iam.create_user(UserName="org-admin")
    iam.attach_user_policy(UserName="org-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="org-admin")["AccessKey"]
    sts = client(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                        RoleSessionName="logs-test")["Credentials"]
    member_client = lambda service: client(  # noqa: E731
        server, service, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    member_iam, member_logs = member_client("iam"), member_client("logs")
    set_up_delivery(member_iam, member_logs, member_client("cloudtrail"), member, "member-trail")
    first = f"before-{uuid.uuid4().hex[:8]}"
    member_iam.create_user(UserName=first)
    wait_for(lambda: users_created(member_logs, member, first), timeout=30)

    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    deny = orgs.create_policy(
        Name="no-log-events", Description="no-log-events", Type="SERVICE_CONTROL_POLICY",
        Content=doc({"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"}),
    )["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=deny, TargetId=member)
    held = f"held-{uuid.uuid4().hex[:8]}"
    member_iam.create_user(UserName=held)
    member_trails = member_client("cloudtrail")
    status = wait_for(lambda: (lambda s: s if "LatestCloudWatchLogsDeliveryError" in s else None)(
        member_trails.get_trail_status(Name="member-trail")), timeout=30)
    assert status["LatestCloudWatchLogsDeliveryError"] == "AccessDeniedException"
    assert users_created(member_logs, member, held) == []

    orgs.detach_policy(PolicyId=deny, TargetId=member)
    assert len(wait_for(lambda: users_created(member_logs, member, held), timeout=30)) == 1


def test_a_restart_neither_loses_nor_repeats_an_event(server, trail):
    """Last in the module: it stops the module's server and serves its data again."""
    iam = server.client("iam")
    names = [f"restart-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for name in names:
        iam.create_user(UserName=name)
    server.stop()
    saved = dict(os.environ)
    os.environ.update(RAMPART_TRAIL_LOGS_DELIVERY_SECONDS="0.3")
    try:
        again = Rampart(server.data_dir)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        logs = again.client("logs")
        for name in names:
            assert len(wait_for(lambda: users_created(logs, ACCOUNT_ID, name), timeout=30)) == 1
        again.client("iam").create_user(UserName=f"after-{uuid.uuid4().hex[:8]}")
        ids = [json.loads(e["message"])["eventID"] for e in records(logs, ACCOUNT_ID)]
        assert len(ids) == len(set(ids))
    finally:
        again.stop()
