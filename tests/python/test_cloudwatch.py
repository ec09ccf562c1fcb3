"""CloudWatch metrics end to end with boto3 and the AWS CLI, over each protocol CloudWatch's
model lists: awsJson1.0 (what botocore 1.44 picks: its priority order puts `json` before
`smithy-rpc-v2-cbor`), Smithy RPC v2 CBOR (newer SDKs) and Query (older SDKs, Terraform). PutMetricData's datapoints come back from GetMetricStatistics, GetMetricData and
ListMetrics; AWS's errors carry their Query codes over every protocol (awsQueryCompatible);
a Deny on `cloudwatch:namespace` stops PutMetricData for that namespace only."""

import datetime
import json
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY

REGION = "us-east-1"
TARGET_PREFIX = "GraniteServiceVersion20100801"


def unique(prefix="Rampart/Test"):
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def minute_ago(minutes):
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=minutes)


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response


@pytest.fixture(scope="module")
def cloudwatch(rampart):
    return rampart.client("cloudwatch")


def client_speaking(rampart, protocol, tmp_path, key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY):
    """A botocore client whose CloudWatch model lists only `protocol` (`query`, `json` or
    `smithy-rpc-v2-cbor`), as
    an SDK that supports no other protocol would send: the model is botocore's own, written to
    a data path searched before botocore's."""
    model = botocore.session.get_session().get_component("data_loader").load_service_model(
        "cloudwatch", "service-2")
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    folder = tmp_path / protocol / "cloudwatch" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(tmp_path / protocol))
    return session.create_client(
        "cloudwatch", endpoint_url=rampart.endpoint, region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret)


def sent_headers(client):
    """The headers of every request `client` sends, recorded as it sends them."""
    sent = []
    client.meta.events.register(
        "before-send.cloudwatch.*",
        lambda request, **_: sent.append({k.lower(): (v.decode() if isinstance(v, bytes) else v)
                                          for k, v in request.headers.items()}))
    return sent


def put_and_read_back(client):
    """Puts datapoints in a fresh namespace and reads them back every way; returns it."""
    namespace = unique()
    at = minute_ago(5)
    dimensions = [{"Name": "Api", "Value": "get"}]
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Dimensions": dimensions, "Timestamp": at,
         "Values": [1.0, 2.0, 3.0], "Counts": [1.0, 1.0, 2.0], "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": dimensions, "Timestamp": at + datetime.timedelta(seconds=30),
         "StatisticValues": {"SampleCount": 2, "Sum": 20, "Minimum": 5, "Maximum": 15},
         "Unit": "Milliseconds"},
    ])
    stats = client.get_metric_statistics(
        Namespace=namespace, MetricName="Latency", Dimensions=dimensions,
        StartTime=at - datetime.timedelta(minutes=10), EndTime=at + datetime.timedelta(minutes=10),
        Period=60, Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])
    assert stats["Label"] == "Latency"
    [point] = stats["Datapoints"]
    assert point["Timestamp"] == at
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (6.0, 29.0, 1.0, 15.0)
    assert point["Unit"] == "Milliseconds"

    data = client.get_metric_data(
        MetricDataQueries=[{"Id": "sum", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": "Latency", "Dimensions": dimensions},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=at - datetime.timedelta(minutes=10), EndTime=at + datetime.timedelta(minutes=10))
    [result] = data["MetricDataResults"]
    assert (result["Id"], result["Timestamps"], result["Values"], result["StatusCode"]) == \
        ("sum", [at], [29.0], "Complete")

    listed = client.list_metrics(Namespace=namespace)["Metrics"]
    assert listed == [{"Namespace": namespace, "MetricName": "Latency", "Dimensions": dimensions}]
    return namespace


def test_boto3_speaks_json_1_0_and_round_trips(cloudwatch):
    sent = sent_headers(cloudwatch)
    put_and_read_back(cloudwatch)
    # botocore 1.44 picks, of the protocols the model lists, the first in its own priority
    # order: awsJson (`json`) before `smithy-rpc-v2-cbor`.
    assert sent and all(h["content-type"] == "application/x-amz-json-1.0" for h in sent)
    assert sent[0]["x-amz-target"] == f"{TARGET_PREFIX}.PutMetricData"


def test_the_cbor_protocol(rampart, tmp_path):
    client = client_speaking(rampart, "smithy-rpc-v2-cbor", tmp_path)
    sent = sent_headers(client)
    put_and_read_back(client)
    assert sent and all(h["content-type"] == "application/cbor" for h in sent)
    assert all(h["smithy-protocol"] == "rpc-v2-cbor" for h in sent)
    response = error_of(lambda: client.put_metric_data(
        Namespace="AWS/EC2", MetricData=[{"MetricName": "CPU", "Value": 1.0}]))
    assert response["Error"]["Code"] == "InvalidParameterValue"
    assert response["Error"]["Message"] == "The value AWS/EC2 for parameter Namespace is invalid."
    assert client.describe_alarms(AlarmNamePrefix="none-")["MetricAlarms"] == []
    response = error_of(lambda: client.list_dashboards())
    assert response["Error"]["Code"] == "NotImplemented"


def test_errors_carry_the_query_codes(cloudwatch):
    response = error_of(lambda: cloudwatch.put_metric_data(
        Namespace="AWS/EC2", MetricData=[{"MetricName": "CPU", "Value": 1.0}]))
    assert response["Error"]["Code"] == "InvalidParameterValue"
    assert response["Error"]["Message"] == "The value AWS/EC2 for parameter Namespace is invalid."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    old = minute_ago(60 * 24 * 15)
    response = error_of(lambda: cloudwatch.put_metric_data(
        Namespace=unique(), MetricData=[{"MetricName": "M", "Value": 1.0, "Timestamp": old}]))
    assert response["Error"]["Message"] == \
        "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."
    response = error_of(lambda: cloudwatch.get_metric_statistics(
        Namespace="N", MetricName="M", StartTime=minute_ago(60 * 24 * 2), EndTime=minute_ago(0),
        Period=60, Statistics=["Sum"]))
    assert response["Error"]["Code"] == "InvalidParameterCombination"
    assert "exceeds the limit of 1,440" in response["Error"]["Message"]
    response = error_of(lambda: cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "e1", "Expression": "SUM(METRICS())"}],
        StartTime=minute_ago(60), EndTime=minute_ago(0)))
    assert response["Error"]["Code"] == "NotImplemented"
    # Dashboards are not served yet: said by name, never faked.
    response = error_of(lambda: cloudwatch.list_dashboards())
    assert response["Error"]["Code"] == "NotImplemented"
    assert "cloudwatch:ListDashboards" in response["Error"]["Message"]


def test_a_large_put_is_gzipped_by_botocore_and_read(cloudwatch):
    namespace = unique()
    sent = sent_headers(cloudwatch)
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": f"m{i:04}", "Value": float(i), "Dimensions": [{"Name": "Shard", "Value": str(i % 7)}]}
        for i in range(1000)])
    assert sent[-1].get("content-encoding") == "gzip"
    first = cloudwatch.list_metrics(Namespace=namespace)
    assert len(first["Metrics"]) == 500
    second = cloudwatch.list_metrics(Namespace=namespace, NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 500 and "NextToken" not in second
    shard = cloudwatch.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Shard", "Value": "3"}])
    assert len(shard["Metrics"]) == len([i for i in range(1000) if i % 7 == 3])


def test_the_query_protocol(rampart, tmp_path):
    client = client_speaking(rampart, "query", tmp_path)
    sent = sent_headers(client)
    put_and_read_back(client)
    assert all(h["content-type"].startswith("application/x-www-form-urlencoded") for h in sent)
    response = error_of(lambda: client.put_metric_data(
        Namespace="AWS/Lambda", MetricData=[{"MetricName": "M", "Value": 1.0}]))
    assert (response["Error"]["Code"], response["Error"]["Type"]) == ("InvalidParameterValue", "Sender")


def signed_json(rampart, operation, body):
    request = AWSRequest(method="POST", url=rampart.endpoint + "/", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"{TARGET_PREFIX}.{operation}"})
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "monitoring", REGION).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers),
                                 method="POST")
    try:
        with urllib.request.urlopen(raw) as response:
            return response.status, lower(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, lower(error.headers), json.loads(error.read())


def lower(headers):
    return {k.lower(): v for k, v in headers.items()}


def test_a_hand_signed_json_request_and_its_query_compatible_error(rampart):
    status, headers, body = signed_json(rampart, "ListMetrics", {"Namespace": unique()})
    assert (status, body) == (200, {"Metrics": []})
    assert headers["content-type"] == "application/x-amz-json-1.0"
    status, headers, body = signed_json(rampart, "PutMetricData", {
        "Namespace": "AWS/S3", "MetricData": [{"MetricName": "M", "Value": 1}]})
    assert status == 400
    assert body["__type"] == "InvalidParameterValueException"
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    # The model's own checks answer Query's ValidationError.
    status, headers, body = signed_json(rampart, "PutMetricData", {"Namespace": ""})
    assert status == 400 and headers["x-amzn-query-error"] == "ValidationError;Sender"


def test_aws_cli(rampart):
    namespace = unique()
    put = rampart.aws("cloudwatch", "put-metric-data", "--namespace", namespace,
                      "--metric-name", "Requests", "--value", "3", "--unit", "Count")
    assert put.returncode == 0, put.stderr
    listed = rampart.aws("cloudwatch", "list-metrics", "--namespace", namespace)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["Metrics"] == [
        {"Namespace": namespace, "MetricName": "Requests", "Dimensions": []}]
    refused = rampart.aws("cloudwatch", "put-metric-data", "--namespace", "AWS/X",
                          "--metric-name", "Requests", "--value", "3")
    assert refused.returncode != 0 and "InvalidParameterValue" in refused.stderr


def test_a_deny_on_the_namespace_stops_that_namespace_only(rampart, tmp_path):
    iam = rampart.client("iam")
    name = f"cw-{uuid.uuid4().hex[:8]}"
    secret_namespace, open_namespace = unique("Secret"), unique("Open")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "cloudwatch:PutMetricData", "Resource": "*",
             "Condition": {"StringEquals": {"cloudwatch:namespace": secret_namespace}}}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    datum = [{"MetricName": "M", "Value": 1.0}]
    user = rampart.client("cloudwatch", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    user.put_metric_data(Namespace=open_namespace, MetricData=datum)
    response = error_of(lambda: user.put_metric_data(Namespace=secret_namespace, MetricData=datum))
    assert response["Error"]["Code"] == "AccessDeniedException"
    cbor = client_speaking(rampart, "smithy-rpc-v2-cbor", tmp_path, key=key["AccessKeyId"],
                           secret=key["SecretAccessKey"])
    response = error_of(lambda: cbor.put_metric_data(Namespace=secret_namespace, MetricData=datum))
    assert response["Error"]["Code"] == "AccessDeniedException"
    # The same Deny over the Query protocol, and nothing was kept.
    query = client_speaking(rampart, "query", tmp_path, key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    response = error_of(lambda: query.put_metric_data(Namespace=secret_namespace, MetricData=datum))
    assert response["Error"]["Code"] == "AccessDenied"
    assert user.list_metrics(Namespace=secret_namespace)["Metrics"] == []
    assert len(user.list_metrics(Namespace=open_namespace)["Metrics"]) == 1


def test_a_deny_on_each_read_action_stops_it(rampart):
    iam = rampart.client("iam")
    name = f"cw-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
            {"Effect": "Deny", "Resource": "*", "Action": [
                "cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics"]}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = rampart.client("cloudwatch", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    namespace = unique()
    # The Allow lets the write through; each read is stopped by its Deny.
    user.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 1.0}])
    calls = {
        "ListMetrics": lambda: user.list_metrics(Namespace=namespace),
        "GetMetricStatistics": lambda: user.get_metric_statistics(
            Namespace=namespace, MetricName="M", StartTime=minute_ago(10), EndTime=minute_ago(0),
            Period=60, Statistics=["Sum"]),
        "GetMetricData": lambda: user.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": "M"}, "Period": 60, "Stat": "Sum"}}],
            StartTime=minute_ago(10), EndTime=minute_ago(0)),
    }
    for operation, call in calls.items():
        response = error_of(call)
        assert response["Error"]["Code"] == "AccessDeniedException", operation
        assert f"cloudwatch:{operation}" in response["Error"]["Message"], operation
    # The account's root, allowed, sees the datapoint the user put.
    root = rampart.client("cloudwatch")
    assert len(root.list_metrics(Namespace=namespace)["Metrics"]) == 1


def test_calls_are_in_the_trail(rampart, cloudwatch):
    namespace = unique()
    put = cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Value": 2.0}])
    request_id = put["ResponseMetadata"]["RequestId"]
    events = rampart.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutMetricData"}])["Events"]
    [event] = [json.loads(e["CloudTrailEvent"]) for e in events
               if json.loads(e["CloudTrailEvent"])["requestID"] == request_id]
    assert event["eventSource"] == "monitoring.amazonaws.com"
    assert event["requestParameters"]["namespace"] == namespace
    assert event["requestParameters"]["metricData"][0]["metricName"] == "M"
