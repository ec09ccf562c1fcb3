"""CloudWatch Logs end to end with boto3 and the AWS CLI: log groups and streams, events put,
read forward and backward and filtered with the filter-pattern language, a metric filter with
a CIS benchmark pattern tested by TestMetricFilter, AWS's errors for bad input, and the
authorization of each family on AWS's resource ARNs: a Deny on the group's ARN or its tag
stops the call that an Allow lets through."""

import json
import time
import uuid

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, wait_for

REGION = "us-east-1"
ROOT_USE = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }')


def now_ms():
    return int(time.time() * 1000)


def unique(prefix="/rampart/test"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


@pytest.fixture(scope="module")
def logs(rampart):
    return rampart.client("logs")


def test_groups_streams_and_events(logs):
    group = unique()
    logs.create_log_group(logGroupName=group, tags={"team": "blue"})
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in found] == [group]
    assert found[0]["retentionInDays"] == 30
    assert found[0]["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}:*"
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "blue"}

    logs.create_log_stream(logGroupName=group, logStreamName="app")
    start = now_ms()
    events = [{"timestamp": start + i, "message": f"line {i} {'ERROR' if i % 3 == 0 else 'INFO'}"}
              for i in range(9)]
    out = logs.put_log_events(logGroupName=group, logStreamName="app", logEvents=events)
    assert "rejectedLogEventsInfo" not in out

    latest = logs.get_log_events(logGroupName=group, logStreamName="app", limit=2)
    assert [e["message"] for e in latest["events"]] == ["line 7 INFO", "line 8 INFO"]
    head = logs.get_log_events(logGroupName=group, logStreamName="app", limit=4, startFromHead=True)
    assert [e["message"] for e in head["events"]][:2] == ["line 0 ERROR", "line 1 INFO"]
    assert head["nextForwardToken"].startswith("f/")
    more = logs.get_log_events(logGroupName=group, logStreamName="app", nextToken=head["nextForwardToken"])
    assert len(more["events"]) == 5

    errors = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]
    assert [e["message"] for e in errors] == ["line 0 ERROR", "line 3 ERROR", "line 6 ERROR"]
    assert all(e["logStreamName"] == "app" for e in errors)

    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert stream["firstEventTimestamp"] == start and stream["lastEventTimestamp"] == start + 8

    logs.delete_log_group(logGroupName=group)
    assert error_of(lambda: logs.describe_log_streams(logGroupName=group))["Code"] == "ResourceNotFoundException"


def test_old_and_new_events_are_rejected_in_the_answer(logs):
    group = unique()
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    out = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 15 * 86_400_000, "message": "too old"},
        {"timestamp": now - 15 * 86_400_000 + 1000, "message": "too old too"},
    ])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    out = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": "fine"},
        {"timestamp": now + 3 * 3_600_000, "message": "too new"},
    ])
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}


def test_reads_answer_time_order_across_batches_and_streams(logs):
    group = unique()
    logs.create_log_group(logGroupName=group)
    for name in ("a", "b"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    now = now_ms()
    # Batch by batch out of order, as several writers to one stream send them.
    logs.put_log_events(logGroupName=group, logStreamName="a", logEvents=[
        {"timestamp": now - 10, "message": "a10"}, {"timestamp": now - 1, "message": "a1"}])
    logs.put_log_events(logGroupName=group, logStreamName="a", logEvents=[
        {"timestamp": now - 30, "message": "a30"}])
    logs.put_log_events(logGroupName=group, logStreamName="b", logEvents=[
        {"timestamp": now - 20, "message": "b20"}, {"timestamp": now - 5, "message": "b5"}])
    head = logs.get_log_events(logGroupName=group, logStreamName="a", startFromHead=True)
    assert [e["message"] for e in head["events"]] == ["a30", "a10", "a1"]
    one = logs.get_log_events(logGroupName=group, logStreamName="a", limit=1)
    assert [e["message"] for e in one["events"]] == ["a1"]
    before = logs.get_log_events(logGroupName=group, logStreamName="a", limit=1,
                                 nextToken=one["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == ["a10"]
    # One page is time-ordered across the streams searched, and so is every page after it.
    merged = logs.filter_log_events(logGroupName=group)["events"]
    assert [e["message"] for e in merged] == ["a30", "b20", "a10", "b5", "a1"]
    paged = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 2}) for e in page["events"]]
    assert paged == ["a30", "b20", "a10", "b5", "a1"]


def test_retention_hides_what_it_no_longer_keeps(logs):
    group = unique()
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 3 * 86_400_000, "message": "three days old"}])
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": "fresh"}])
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    got = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["fresh"]
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["fresh"]
    # The scheduler's sweep removes it from storage too.
    stored = lambda: logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"]  # noqa: E731
    assert wait_for(lambda: stored() == len("fresh"), timeout=30)


def test_errors_for_bad_input(logs):
    group = unique()
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    assert error_of(lambda: logs.create_log_group(logGroupName=group))["Code"] == "ResourceAlreadyExistsException"
    assert error_of(lambda: logs.put_retention_policy(logGroupName=group, retentionInDays=2))["Code"] == \
        "InvalidParameterException"
    now = now_ms()
    unordered = [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]
    assert error_of(lambda: logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=unordered))["Code"] == \
        "InvalidParameterException"
    assert error_of(lambda: logs.put_log_events(
        logGroupName=group, logStreamName="missing", logEvents=[{"timestamp": now, "message": "a"}]))["Code"] == \
        "ResourceNotFoundException"
    assert error_of(lambda: logs.filter_log_events(logGroupName=group, filterPattern="{ $.a = "))["Code"] == \
        "InvalidParameterException"
    assert error_of(lambda: logs.create_log_group(logGroupName="bad name!"))["Code"] in \
        ("InvalidParameterException", "ValidationException")


def test_cis_metric_filter_and_test_metric_filter(logs, rampart):
    group = unique("CloudTrail/DefaultLogGroup")
    logs.create_log_group(logGroupName=group)
    logs.put_metric_filter(logGroupName=group, filterName="RootAccountUsage", filterPattern=ROOT_USE,
                           metricTransformations=[{"metricName": "RootAccountUsageCount",
                                                   "metricNamespace": "CISBenchmark", "metricValue": "1"}])
    found = logs.describe_metric_filters(metricName="RootAccountUsageCount", metricNamespace="CISBenchmark")
    assert [f["filterName"] for f in found["metricFilters"] if f["logGroupName"] == group] == ["RootAccountUsage"]

    root_call = {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall", "eventName": "ListUsers"}
    by_service = {"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"},
                  "eventType": "AwsApiCall"}
    user_call = {"userIdentity": {"type": "IAMUser"}, "eventType": "AwsApiCall"}
    tested = logs.test_metric_filter(filterPattern=ROOT_USE, logEventMessages=[
        json.dumps(root_call), json.dumps(by_service), json.dumps(user_call)])
    assert [m["eventNumber"] for m in tested["matches"]] == [1]
    assert tested["matches"][0]["extractedValues"]["$.userIdentity.type"] == "Root"

    # The same through the AWS CLI, as a user follows the benchmark's remediation.
    cli = rampart.aws("logs", "describe-metric-filters", "--log-group-name", group, "--output", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["metricFilters"][0]["filterPattern"] == ROOT_USE
    cli = rampart.aws("logs", "test-metric-filter", "--filter-pattern", "[ip, user, ..., status = 4*, bytes]",
                      "--log-event-messages", "10.0.0.1 - 404 12", "10.0.0.1 - 200 12", "--output", "json")
    assert cli.returncode == 0, cli.stderr
    matches = json.loads(cli.stdout)["matches"]
    assert [m["eventNumber"] for m in matches] == [1]
    assert matches[0]["extractedValues"]["$status"] == "404"

    bad = logs.put_metric_filter
    assert error_of(lambda: bad(logGroupName=group, filterName="x", filterPattern="{ $.a >",
                                metricTransformations=[{"metricName": "m", "metricNamespace": "n",
                                                        "metricValue": "1"}]))["Code"] == "InvalidParameterException"
    logs.delete_metric_filter(logGroupName=group, filterName="RootAccountUsage")
    assert error_of(lambda: logs.delete_metric_filter(logGroupName=group, filterName="RootAccountUsage"))["Code"] == \
        "ResourceNotFoundException"


class User:
    def __init__(self, rampart, *statements):
        iam = rampart.client("iam")
        name = f"l-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.logs = rampart.client("logs", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_deny_by_resource_arn_and_by_tag(rampart, logs):
    blue, red = unique("/blue"), unique("/red")
    for group, team in ((blue, "blue"), (red, "red")):
        logs.create_log_group(logGroupName=group, tags={"team": team})
        logs.create_log_stream(logGroupName=group, logStreamName="s")
    red_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{red}"
    by_tag = User(rampart,
                  {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": "logs:*", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}}})
    by_arn = User(rampart,
                  {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": ["logs:PutLogEvents", "logs:GetLogEvents", "logs:DeleteLogGroup"],
                   "Resource": [red_arn, f"{red_arn}:log-stream:*"]})
    event = [{"timestamp": now_ms(), "message": "hello"}]
    for user in (by_tag, by_arn):
        user.logs.put_log_events(logGroupName=blue, logStreamName="s", logEvents=event)
        assert user.logs.get_log_events(logGroupName=blue, logStreamName="s")["events"]
        assert error_of(lambda: user.logs.put_log_events(logGroupName=red, logStreamName="s",
                                                         logEvents=event))["Code"] == "AccessDeniedException"
        assert error_of(lambda: user.logs.get_log_events(logGroupName=red, logStreamName="s"))["Code"] == \
            "AccessDeniedException"
        assert error_of(lambda: user.logs.delete_log_group(logGroupName=red))["Code"] == "AccessDeniedException"
    assert error_of(lambda: by_tag.logs.filter_log_events(logGroupName=red))["Code"] == "AccessDeniedException"
    assert by_tag.logs.filter_log_events(logGroupName=blue)["events"]
    # A tag a policy forbids on creation stops CreateLogGroup; without it the group is created.
    no_red = User(rampart,
                  {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": "logs:CreateLogGroup", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:RequestTag/team": "red"}}})
    assert error_of(lambda: no_red.logs.create_log_group(logGroupName=unique(), tags={"team": "red"}))["Code"] == \
        "AccessDeniedException"
    no_red.logs.create_log_group(logGroupName=unique(), tags={"team": "blue"})
    # Nothing is allowed by default.
    nobody = User(rampart, {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"})
    assert error_of(lambda: nobody.logs.describe_log_groups())["Code"] == "AccessDeniedException"


def operations(arn_of):
    """Every operation on a group, in an order that works on one group from start to end."""
    transform = [{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}]
    event = [{"timestamp": now_ms(), "message": "hello"}]
    return [
        ("PutRetentionPolicy", lambda c, g: c.put_retention_policy(logGroupName=g, retentionInDays=7)),
        ("DeleteRetentionPolicy", lambda c, g: c.delete_retention_policy(logGroupName=g)),
        ("TagResource", lambda c, g: c.tag_resource(resourceArn=arn_of(g), tags={"k": "v"})),
        ("UntagResource", lambda c, g: c.untag_resource(resourceArn=arn_of(g), tagKeys=["k"])),
        ("ListTagsForResource", lambda c, g: c.list_tags_for_resource(resourceArn=arn_of(g))),
        ("TagLogGroup", lambda c, g: c.tag_log_group(logGroupName=g, tags={"k": "v"})),
        ("UntagLogGroup", lambda c, g: c.untag_log_group(logGroupName=g, tags=["k"])),
        ("ListTagsLogGroup", lambda c, g: c.list_tags_log_group(logGroupName=g)),
        ("CreateLogStream", lambda c, g: c.create_log_stream(logGroupName=g, logStreamName="x")),
        ("DescribeLogStreams", lambda c, g: c.describe_log_streams(logGroupName=g)),
        ("PutLogEvents", lambda c, g: c.put_log_events(logGroupName=g, logStreamName="x", logEvents=event)),
        ("GetLogEvents", lambda c, g: c.get_log_events(logGroupName=g, logStreamName="x")),
        ("FilterLogEvents", lambda c, g: c.filter_log_events(logGroupName=g)),
        ("DeleteLogStream", lambda c, g: c.delete_log_stream(logGroupName=g, logStreamName="x")),
        ("PutMetricFilter", lambda c, g: c.put_metric_filter(logGroupName=g, filterName="f", filterPattern="ERROR",
                                                             metricTransformations=transform)),
        ("DescribeMetricFilters", lambda c, g: c.describe_metric_filters(logGroupName=g)),
        ("DeleteMetricFilter", lambda c, g: c.delete_metric_filter(logGroupName=g, filterName="f")),
        ("DeleteLogGroup", lambda c, g: c.delete_log_group(logGroupName=g)),
    ]


def test_every_group_operation_is_stopped_by_a_deny_on_the_group_tag(rampart, logs):
    blue, red = unique("/blue"), unique("/red")
    logs.create_log_group(logGroupName=blue, tags={"team": "blue"})
    logs.create_log_group(logGroupName=red, tags={"team": "red"})
    # The red group's stream and filter exist, so that a refusal is the Deny's, not a miss.
    logs.create_log_stream(logGroupName=red, logStreamName="x")
    logs.put_metric_filter(logGroupName=red, filterName="f", filterPattern="ERROR", metricTransformations=[
        {"metricName": "m", "metricNamespace": "n", "metricValue": "1"}])
    user = User(rampart,
                {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "logs:*", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}}})
    arn_of = lambda g: f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{g}"  # noqa: E731
    for name, call in operations(arn_of):
        call(user.logs, blue)
        assert error_of(lambda: call(user.logs, red))["Code"] == "AccessDeniedException", name
    # The actions with no resource: a Deny on the action stops them.
    no_test = User(rampart,
                   {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                   {"Effect": "Deny", "Action": ["logs:TestMetricFilter", "logs:DescribeLogGroups"],
                    "Resource": "*"})
    assert error_of(lambda: no_test.logs.test_metric_filter(filterPattern="a", logEventMessages=["a"]))["Code"] == \
        "AccessDeniedException"
    assert error_of(lambda: no_test.logs.describe_log_groups())["Code"] == "AccessDeniedException"
    assert user.logs.test_metric_filter(filterPattern="a", logEventMessages=["a"])["matches"]
