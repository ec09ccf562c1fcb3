"""CloudWatch alarms end to end with boto3: a server whose scheduler looks for due work every
0.2 s evaluates 10-second alarms on high-resolution metrics, so an alarm trips within seconds
of the PutMetricData that breaches it. State changes, M out of N, TreatMissingData, history
items as AWS writes them, SetAlarmState, disabled actions, and Denies on the alarm's ARN, its
tags and `cloudwatch:AlarmActions`. An SNS action on a topic that does not exist fails and is
recorded in history as AWS records a failed action; one on a real topic reaches its HTTP
subscriber as a signed notification naming the alarm."""

import json
import urllib.request
import uuid

import botocore.exceptions
import pytest

from conftest import Rampart, wait_for
from test_sns import Subscriber, verify

TOPIC_SUFFIX = "ops-alerts"


def unique(prefix="alarm"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response


@pytest.fixture(scope="module")
def rampart(tmp_path_factory):
    server = Rampart(tmp_path_factory.mktemp("alarms"), RAMPART_SCHEDULER_SECONDS="0.2")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cloudwatch(rampart):
    return rampart.client("cloudwatch")


@pytest.fixture(scope="module")
def account(rampart):
    return rampart.client("sts").get_caller_identity()["Account"]


def put(cloudwatch, namespace, value):
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": "Errors", "Value": value, "StorageResolution": 1,
        "Dimensions": [{"Name": "Service", "Value": "api"}]}])


def make_alarm(cloudwatch, name, namespace, **extra):
    arguments = dict(
        AlarmName=name, Namespace=namespace, MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "api"}], Statistic="Maximum",
        Period=10, EvaluationPeriods=1, Threshold=3.0,
        ComparisonOperator="GreaterThanThreshold")
    arguments.update(extra)
    cloudwatch.put_metric_alarm(**arguments)


def state(cloudwatch, name):
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


def history(cloudwatch, name, kind):
    return cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType=kind, ScanBy="TimestampAscending")["AlarmHistoryItems"]


def test_a_breach_trips_the_alarm_then_ok_then_insufficient_data(cloudwatch, account):
    name, namespace = unique(), unique("App")
    topic = f"arn:aws:sns:us-east-1:{account}:{TOPIC_SUFFIX}"
    make_alarm(cloudwatch, name, namespace, AlarmActions=[topic], AlarmDescription="errors")
    alarm = state(cloudwatch, name)
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}"

    def breached():
        put(cloudwatch, namespace, 5.0)
        return state(cloudwatch, name)["StateValue"] == "ALARM"
    wait_for(breached, timeout=60)
    alarm = state(cloudwatch, name)
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [5.0 (")
    assert alarm["StateReason"].endswith("was greater than the threshold (3.0).")
    reason_data = json.loads(alarm["StateReasonData"])
    assert reason_data["statistic"] == "Maximum" and reason_data["period"] == 10
    assert reason_data["recentDatapoints"] == [5.0]

    def recovered():
        put(cloudwatch, namespace, 1.0)
        return state(cloudwatch, name)["StateValue"] == "OK"
    wait_for(recovered, timeout=60)
    assert "was not greater than the threshold (3.0)" in state(cloudwatch, name)["StateReason"]
    # No data any more: `missing` has nothing to decide on.
    wait_for(lambda: state(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA", timeout=60)
    assert state(cloudwatch, name)["StateReason"] == "Insufficient Data: 1 datapoint was unknown."

    updates = history(cloudwatch, name, "StateUpdate")
    summaries = [u["HistorySummary"] for u in updates]
    assert summaries[:3] == ["Alarm updated from INSUFFICIENT_DATA to ALARM",
                             "Alarm updated from ALARM to OK",
                             "Alarm updated from OK to INSUFFICIENT_DATA"]
    data = json.loads(updates[0]["HistoryData"])
    assert data["oldState"]["stateValue"] == "INSUFFICIENT_DATA"
    assert data["newState"]["stateValue"] == "ALARM"
    assert data["newState"]["stateReasonData"]["threshold"] == 3.0
    # The SNS action ran on the ALARM transition; its topic does not exist, so it failed, and
    # the history says so as AWS words a failed action.
    [action] = history(cloudwatch, name, "Action")
    assert action["HistorySummary"].startswith(f"Failed to execute action {topic}.")
    assert json.loads(action["HistoryData"])["actionState"] == "Failed"
    [created] = history(cloudwatch, name, "ConfigurationUpdate")
    assert created["HistorySummary"] == f'Alarm "{name}" created'


def test_m_out_of_n_and_missing_data_treatments(cloudwatch):
    namespace = unique("App")
    names = {treatment: unique(treatment) for treatment in ("breaching", "notBreaching", "ignore")}
    for treatment, name in names.items():
        make_alarm(cloudwatch, name, namespace, EvaluationPeriods=3, DatapointsToAlarm=2,
                   TreatMissingData=treatment)
    # No data at all: breaching → ALARM, notBreaching → OK, ignore keeps its state.
    wait_for(lambda: state(cloudwatch, names["breaching"])["StateValue"] == "ALARM")
    wait_for(lambda: state(cloudwatch, names["notBreaching"])["StateValue"] == "OK")
    assert "treated as [Breaching]" in state(cloudwatch, names["breaching"])["StateReason"]
    assert state(cloudwatch, names["ignore"])["StateValue"] == "INSUFFICIENT_DATA"
    # Two breaching datapoints out of three periods trip the M-of-N alarm that ignores gaps.

    def tripped():
        put(cloudwatch, namespace, 9.0)
        return state(cloudwatch, names["ignore"])["StateValue"] == "ALARM"
    wait_for(tripped, timeout=90)
    reason = state(cloudwatch, names["ignore"])["StateReason"]
    assert "out of the last 3 datapoints" in reason and "(minimum 2 datapoints for" in reason


def test_set_alarm_state_and_disabled_actions(cloudwatch, account):
    name, namespace = unique(), unique("App")
    topic = f"arn:aws:sns:us-east-1:{account}:{TOPIC_SUFFIX}"
    make_alarm(cloudwatch, name, namespace, Period=60, AlarmActions=[topic],
               ActionsEnabled=False)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill",
                               StateReasonData=json.dumps({"drill": True}))
    alarm = state(cloudwatch, name)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "drill")
    assert alarm["ActionsEnabled"] is False
    assert history(cloudwatch, name, "Action") == []
    cloudwatch.enable_alarm_actions(AlarmNames=[name])
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="over")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="again")
    assert len(history(cloudwatch, name, "Action")) == 1
    response = error_of(lambda: cloudwatch.set_alarm_state(
        AlarmName=unique(), StateValue="OK", StateReason="x"))
    assert response["Error"]["Code"] == "ResourceNotFound"
    assert cloudwatch.describe_alarms(StateValue="ALARM", AlarmNamePrefix=name)["MetricAlarms"]
    cloudwatch.delete_alarms(AlarmNames=[name])
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    deleted = history(cloudwatch, name, "ConfigurationUpdate")[-1]
    assert deleted["HistorySummary"] == f'Alarm "{name}" deleted'


def test_unsupported_alarm_kinds_and_bad_input(cloudwatch):
    name, namespace = unique(), unique("App")
    response = error_of(lambda: cloudwatch.put_metric_alarm(
        AlarmName=name, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[{"Id": "e", "Expression": "m*2", "ReturnData": True}]))
    assert response["Error"]["Code"] == "NotImplemented"
    assert "metric math" in response["Error"]["Message"]
    response = error_of(lambda: make_alarm(
        cloudwatch, name, namespace, ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold"))
    assert response["Error"]["Code"] == "ValidationError"
    response = error_of(lambda: make_alarm(cloudwatch, name, namespace, Period=20))
    assert response["Error"]["Code"] == "InvalidParameterValue"
    response = error_of(lambda: make_alarm(cloudwatch, name, namespace, Period=3600,
                                           EvaluationPeriods=48))
    assert "more than a day" in response["Error"]["Message"]


def test_tags_and_denies(rampart, cloudwatch, account):
    iam = rampart.client("iam")
    user_name = unique("cw-user")
    protected, open_alarm, namespace = unique("protected"), unique("open"), unique("App")
    topic = f"arn:aws:sns:us-east-1:{account}:{TOPIC_SUFFIX}"
    make_alarm(cloudwatch, protected, namespace, Period=60, Tags=[{"Key": "team", "Value": "red"}])
    make_alarm(cloudwatch, open_alarm, namespace, Period=60)
    arn = f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{protected}"
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "red"}]
    iam.create_user(UserName=user_name)
    iam.put_user_policy(UserName=user_name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "cloudwatch:PutMetricAlarm", "Resource": "*",
             "Condition": {"ForAnyValue:StringLike": {"cloudwatch:AlarmActions": "arn:aws:sns:*"}}},
            {"Effect": "Deny", "Action": ["cloudwatch:SetAlarmState", "cloudwatch:DeleteAlarms",
                                          "cloudwatch:UntagResource"],
             "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}}},
            {"Effect": "Deny", "Action": "cloudwatch:DescribeAlarmHistory",
             "Resource": f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{protected}"},
            {"Effect": "Deny", "Action": "cloudwatch:TagResource", "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}}]}))
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    user = rampart.client("cloudwatch", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    # cloudwatch:AlarmActions: an SNS action is denied, an alarm without one is not.
    response = error_of(lambda: make_alarm(user, unique(), namespace, AlarmActions=[topic]))
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert "cloudwatch:PutMetricAlarm" in response["Error"]["Message"]
    make_alarm(user, unique(), namespace, Period=60)
    # aws:ResourceTag on the alarm's ARN.
    for call in (lambda: user.set_alarm_state(AlarmName=protected, StateValue="OK", StateReason="x"),
                 lambda: user.delete_alarms(AlarmNames=[protected]),
                 lambda: user.untag_resource(ResourceARN=arn, TagKeys=["team"])):
        assert error_of(call)["Error"]["Code"] == "AccessDeniedException"
    user.set_alarm_state(AlarmName=open_alarm, StateValue="OK", StateReason="x")
    # The alarm's ARN as the resource.
    response = error_of(lambda: user.describe_alarm_history(AlarmName=protected))
    assert response["Error"]["Code"] == "AccessDeniedException"
    user.describe_alarm_history(AlarmName=open_alarm)
    # aws:TagKeys on TagResource.
    response = error_of(lambda: user.tag_resource(
        ResourceARN=arn, Tags=[{"Key": "owner", "Value": "me"}]))
    assert response["Error"]["Code"] == "AccessDeniedException"
    user.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    assert state(cloudwatch, protected)["StateValue"] == "INSUFFICIENT_DATA"
    assert {t["Key"] for t in cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]} == {
        "team", "env"}


def test_alarm_calls_are_in_the_trail(rampart, cloudwatch):
    name = unique()
    make_alarm(cloudwatch, name, unique("App"), Period=60)
    events = rampart.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "PutMetricAlarm"}])["Events"]
    matching = [e for e in events if json.loads(e["CloudTrailEvent"])
                .get("requestParameters", {}).get("alarmName") == name]
    assert len(matching) == 1


def test_a_deny_on_each_other_alarm_action_stops_it(rampart, cloudwatch, account):
    iam = rampart.client("iam")
    user_name, name, namespace = unique("cw-user"), unique(), unique("App")
    make_alarm(cloudwatch, name, namespace, Period=60)
    arn = f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}"
    iam.create_user(UserName=user_name)
    iam.put_user_policy(UserName=user_name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudwatch:*", "Resource": "*"},
            {"Effect": "Deny", "Resource": arn, "Action": [
                "cloudwatch:DescribeAlarms", "cloudwatch:EnableAlarmActions",
                "cloudwatch:DisableAlarmActions", "cloudwatch:ListTagsForResource"]},
            {"Effect": "Deny", "Resource": "*", "Action": "cloudwatch:DescribeAlarmsForMetric"}]}))
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    user = rampart.client("cloudwatch", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    calls = {
        "DescribeAlarms": lambda: user.describe_alarms(AlarmNames=[name]),
        "EnableAlarmActions": lambda: user.enable_alarm_actions(AlarmNames=[name]),
        "DisableAlarmActions": lambda: user.disable_alarm_actions(AlarmNames=[name]),
        "ListTagsForResource": lambda: user.list_tags_for_resource(ResourceARN=arn),
        "DescribeAlarmsForMetric": lambda: user.describe_alarms_for_metric(
            MetricName="Errors", Namespace=namespace),
    }
    for operation, call in calls.items():
        response = error_of(call)
        assert response["Error"]["Code"] == "AccessDeniedException", operation
        assert f"cloudwatch:{operation}" in response["Error"]["Message"], operation
    # Another alarm, which no Deny names, is served.
    other = unique()
    make_alarm(cloudwatch, other, namespace, Period=60)
    assert [a["AlarmName"] for a in user.describe_alarms(AlarmNames=[other])["MetricAlarms"]] == [other]
    user.disable_alarm_actions(AlarmNames=[other])
    assert state(cloudwatch, name)["ActionsEnabled"] is True
    assert state(cloudwatch, other)["ActionsEnabled"] is False


def test_an_alarm_notifies_an_http_subscriber_through_sns_with_a_signed_message(rampart, cloudwatch, account):
    sns = rampart.client("sns")
    subscriber = Subscriber()
    try:
        topic = sns.create_topic(Name=unique("alerts"))["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
        [confirmation] = subscriber.wait("SubscriptionConfirmation")
        urllib.request.urlopen(json.loads(confirmation["body"])["SubscribeURL"]).read()
        name, namespace = unique(), unique("App")
        make_alarm(cloudwatch, name, namespace, AlarmActions=[topic])
        put(cloudwatch, namespace, 10)
        [delivered] = subscriber.wait("Notification")
        message = json.loads(delivered["body"])
        verify(message, rampart.endpoint)
        assert message["TopicArn"] == topic
        assert message["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
        alarm = json.loads(message["Message"])
        assert alarm["AlarmName"] == name
        assert alarm["NewStateValue"] == "ALARM" and alarm["OldStateValue"] == "INSUFFICIENT_DATA"
        assert alarm["AWSAccountId"] == account
        assert alarm["Trigger"]["MetricName"] == "Errors"
        assert alarm["Trigger"]["Namespace"] == namespace
        [action] = history(cloudwatch, name, "Action")
        assert json.loads(action["HistoryData"])["actionState"] == "Succeeded"
    finally:
        subscriber.stop()


def test_a_topic_policy_deny_on_cloudwatch_stops_the_notification(rampart, cloudwatch):
    sns = rampart.client("sns")
    topic = sns.create_topic(Name=unique("denied"))["TopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({"Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "SNS:Publish", "Resource": topic})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    name, namespace = unique(), unique("App")
    make_alarm(cloudwatch, name, namespace, AlarmActions=[topic])
    put(cloudwatch, namespace, 10)
    assert wait_for(lambda: history(cloudwatch, name, "Action"))
    [action] = history(cloudwatch, name, "Action")
    assert json.loads(action["HistoryData"])["actionState"] == "Failed"
