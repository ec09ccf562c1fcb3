"""Metric filters emit CloudWatch metrics (issue 22), end to end with boto3: the CIS
"unauthorized API calls" filter counts CloudTrail-shaped events put in its group, a value taken
from `$.bytes`, a space-delimited pattern's named field as value and dimension, defaultValue 0
for events that do not match, no back-fill of events put before the filter, and a Deny on
logs:PutLogEvents that stops the put stops its datapoints too. The metric put is CloudWatch
Logs' own work inside AWS: no CloudTrail event records it and the caller needs no
cloudwatch:PutMetricData."""

import datetime
import json
import time
import uuid

import botocore.exceptions
import pytest

REGION = "us-east-1"
UNAUTHORIZED = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'


def now_ms():
    return int(time.time() * 1000)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def logs(rampart):
    return rampart.client("logs")


@pytest.fixture(scope="module")
def cloudwatch(rampart):
    return rampart.client("cloudwatch")


def group_with_stream(logs):
    group = unique("/rampart/metrics")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    return group


def put_filter(logs, group, pattern, namespace, **transformation):
    logs.put_metric_filter(logGroupName=group, filterName=unique("f"), filterPattern=pattern,
                           metricTransformations=[{"metricName": "M", "metricNamespace": namespace,
                                                   "metricValue": "1", **transformation}])


def put_events(client, group, messages):
    at = now_ms()
    client.put_log_events(logGroupName=group, logStreamName="s",
                          logEvents=[{"timestamp": at + i, "message": m} for i, m in enumerate(messages)])


def statistics(cloudwatch, namespace, dimensions=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName="M", Dimensions=list(dimensions),
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=5),
        Period=60, Statistics=["Sum", "SampleCount", "Maximum"])["Datapoints"]
    return (sum(p["Sum"] for p in points), sum(p["SampleCount"] for p in points),
            max((p["Maximum"] for p in points), default=None), points)


def cloudtrail_event(**fields):
    return json.dumps({"eventVersion": "1.11", "eventSource": "ec2.amazonaws.com",
                       "awsRegion": REGION, "userIdentity": {"type": "IAMUser"}, **fields})


def test_cis_unauthorized_api_calls_are_counted(logs, cloudwatch, rampart):
    group = group_with_stream(logs)
    namespace = unique("CISBenchmark")
    put_filter(logs, group, UNAUTHORIZED, namespace)
    put_events(logs, group, [
        cloudtrail_event(eventName="RunInstances", errorCode="Client.UnauthorizedOperation"),
        cloudtrail_event(eventName="GetObject", errorCode="AccessDenied"),
        cloudtrail_event(eventName="ListUsers"),
        cloudtrail_event(eventName="Decrypt", errorCode="AccessDeniedException"),
        cloudtrail_event(eventName="PutObject", errorCode="NoSuchBucket"),
        "not json at all",
    ])
    total, samples, _, points = statistics(cloudwatch, namespace)
    assert (total, samples) == (3.0, 3.0), points
    metrics = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert metrics == [{"Namespace": namespace, "MetricName": "M", "Dimensions": []}]
    # GetMetricData sees the same data.
    now = datetime.datetime.now(datetime.timezone.utc)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": "M"}, "Period": 60, "Stat": "Sum"}}],
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=5))
    assert sum(data["MetricDataResults"][0]["Values"]) == 3.0
    # CloudWatch Logs' put is not a call of the account's: no PutMetricData event records it.
    events = rampart.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutMetricData"}])["Events"]
    assert not [e for e in events if namespace in e["CloudTrailEvent"]]


def test_a_json_field_is_the_value(logs, cloudwatch):
    group = group_with_stream(logs)
    namespace = unique("App")
    put_filter(logs, group, "{ $.bytes > 0 }", namespace, metricValue="$.bytes", unit="Bytes")
    put_events(logs, group, [json.dumps({"bytes": 100}), json.dumps({"bytes": 250}),
                             json.dumps({"bytes": 0}), json.dumps({"other": 1})])
    total, samples, maximum, points = statistics(cloudwatch, namespace)
    assert (total, samples, maximum) == (350.0, 2.0, 250.0), points
    assert {p["Unit"] for p in points} == {"Bytes"}


def test_a_space_delimited_field_is_value_and_dimension(logs, cloudwatch):
    group = group_with_stream(logs)
    namespace = unique("Web")
    put_filter(logs, group, "[ip, user, status = 4*, size]", namespace, metricValue="$size",
               dimensions={"Status": "$status"})
    put_events(logs, group, ["10.0.0.1 alice 404 12", "10.0.0.2 bob 200 99",
                             "10.0.0.3 carol 403 30", "10.0.0.4 dave 404 8"])
    total, samples, _, points = statistics(cloudwatch, namespace, [{"Name": "Status", "Value": "404"}])
    assert (total, samples) == (20.0, 2.0), points
    total, samples, _, points = statistics(cloudwatch, namespace, [{"Name": "Status", "Value": "403"}])
    assert (total, samples) == (30.0, 1.0), points
    listed = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in listed) == ["403", "404"]


def test_default_value_is_emitted_for_events_that_do_not_match(logs, cloudwatch):
    group = group_with_stream(logs)
    namespace = unique("Errors")
    put_filter(logs, group, "ERROR", namespace, defaultValue=0.0)
    put_events(logs, group, ["ERROR disk full", "INFO ok", "INFO still ok", "ERROR again"])
    total, samples, _, points = statistics(cloudwatch, namespace)
    assert (total, samples) == (2.0, 4.0), points


def test_a_new_filter_does_not_reach_back(logs, cloudwatch):
    group = group_with_stream(logs)
    namespace = unique("Late")
    put_events(logs, group, ["ERROR before the filter"])
    put_filter(logs, group, "ERROR", namespace)
    assert statistics(cloudwatch, namespace)[3] == []
    put_events(logs, group, ["ERROR after the filter"])
    assert statistics(cloudwatch, namespace)[:2] == (1.0, 1.0)


class User:
    def __init__(self, rampart, *statements):
        iam = rampart.client("iam")
        name = f"m-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.logs = rampart.client("logs", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_a_deny_on_put_log_events_stops_the_datapoints(rampart, logs, cloudwatch):
    group = group_with_stream(logs)
    namespace = unique("Denied")
    put_filter(logs, group, UNAUTHORIZED, namespace)
    denied = cloudtrail_event(eventName="GetObject", errorCode="AccessDenied")
    # Allowed logs:PutLogEvents only: the metric is CloudWatch Logs' own put, which needs no
    # cloudwatch:PutMetricData of the caller (and a Deny of it does not stop it).
    allowed = User(rampart, {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"},
                   {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*"})
    put_events(allowed.logs, group, [denied])
    assert statistics(cloudwatch, namespace)[:2] == (1.0, 1.0)
    refused = User(rampart, {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                   {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"})
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        put_events(refused.logs, group, [denied, denied])
    assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException"
    assert statistics(cloudwatch, namespace)[:2] == (1.0, 1.0)
