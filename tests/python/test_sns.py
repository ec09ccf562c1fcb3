"""SNS end to end with boto3 and the AWS CLI: topics with AWS's attributes and default policy;
an HTTP subscriber that receives the SubscriptionConfirmation, confirms through its
SubscribeURL unsigned, receives a Publish and verifies both signatures (SignatureVersion 1 and
2) with the certificate at SigningCertURL, following AWS's documented verification steps;
email subscriptions delivered as outbox files; retries with the topic's delivery policy; the
loopback guard; topic policies deciding as resource policies (an explicit Deny stops Publish,
another account publishes only when the policy allows it); a Deny for each family."""

import base64
import http.server
import json
import os
import subprocess
import threading
import urllib.parse
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import ACCOUNT_ID, Rampart, wait_for

OTHER_ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The scheduler wakes every second, so deliveries come soon after their calls.
    rampart = Rampart(tmp_path_factory.mktemp("sns"), RAMPART_SCHEDULER_SECONDS="1")
    yield rampart
    rampart.stop()


@pytest.fixture(scope="module")
def sns(server):
    return server.client("sns")


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


class Subscriber:
    """An HTTP endpoint on loopback that keeps every POST; answers 500 to the first
    `failures` Notifications."""

    def __init__(self, failures=0, port=0):
        received = self.received = []
        self.failures = failures
        subscriber = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = {"headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body.decode()}
                if (message["headers"].get("x-amz-sns-message-type") == "Notification"
                        and subscriber.failures > 0):
                    subscriber.failures -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                received.append(message)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, kind, count=1):
        def found():
            got = [m for m in self.received if m["headers"].get("x-amz-sns-message-type") == kind]
            return got if len(got) >= count else None
        return wait_for(found)

    def stop(self):
        self.httpd.shutdown()


def string_to_sign(message):
    """AWS's documented string to sign: the fields by name, in this order, each followed by
    its value, each on its own line."""
    if message["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{f}\n{message[f]}\n" for f in fields if f in message).encode()


def verify(message, endpoint):
    """AWS's verification steps: fetch the certificate at SigningCertURL (on the server's own
    endpoint here), check the signature over the string to sign with SHA1 or SHA256."""
    assert message["SigningCertURL"].startswith(endpoint + "/_rampart/sns/SimpleNotificationService-")
    pem = urllib.request.urlopen(message["SigningCertURL"]).read()
    certificate = x509.load_pem_x509_certificate(pem)
    digest = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    certificate.public_key().verify(base64.b64decode(message["Signature"]),
                                    string_to_sign(message), padding.PKCS1v15(), digest)
    # A changed message no longer verifies.
    tampered = dict(message, Message=message["Message"] + "!")
    with pytest.raises(Exception):
        certificate.public_key().verify(base64.b64decode(message["Signature"]),
                                        string_to_sign(tampered), padding.PKCS1v15(), digest)


def test_topics_attributes_tags_and_the_cli(server, sns):
    arn = sns.create_topic(Name="cis-alarms", Attributes={"DisplayName": "CIS"},
                           Tags=[{"Key": "team", "Value": "sec"}])["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:cis-alarms"
    # Idempotent on the same attributes; refused on others.
    assert sns.create_topic(Name="cis-alarms", Attributes={"DisplayName": "CIS"})["TopicArn"] == arn
    assert error_of(lambda: sns.create_topic(Name="cis-alarms", Attributes={"DisplayName": "x"}))[
        "Code"] == "InvalidParameter"
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["Owner"] == ACCOUNT_ID
    assert attributes["DisplayName"] == "CIS"
    assert attributes["SubscriptionsConfirmed"] == "0"
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT_ID}}
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"][
        "defaultHealthyRetryPolicy"]["numRetries"] == 3
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SignatureVersion"] == "2"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "sec"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []
    missing = error_of(lambda: sns.get_topic_attributes(TopicArn=arn + "-gone"))
    assert (missing["Code"], missing["Message"]) == ("NotFound", "Topic does not exist")
    # FIFO topics are refused by name, never faked.
    assert "FIFO" in error_of(lambda: sns.create_topic(
        Name="orders.fifo", Attributes={"FifoTopic": "true"}))["Message"]
    out = server.aws("sns", "list-topics", "--output", "json")
    assert out.returncode == 0, out.stderr
    assert {"TopicArn": arn} in json.loads(out.stdout)["Topics"]
    # Paging: 100 a page, as AWS.
    for i in range(120):
        sns.create_topic(Name=f"page-{i:03d}")
    pages = list(sns.get_paginator("list_topics").paginate())
    assert [len(p["Topics"]) for p in pages] == [100, 21]


def test_an_http_subscriber_confirms_receives_and_verifies(server, sns):
    subscriber = Subscriber()
    try:
        arn = sns.create_topic(Name=f"http-{uuid.uuid4().hex[:6]}")["TopicArn"]
        assert sns.subscribe(TopicArn=arn, Protocol="http",
                             Endpoint=subscriber.url)["SubscriptionArn"] == "pending confirmation"
        [confirmation] = subscriber.wait("SubscriptionConfirmation")
        assert confirmation["headers"]["x-amz-sns-topic-arn"] == arn
        message = json.loads(confirmation["body"])
        assert message["Type"] == "SubscriptionConfirmation"
        assert message["SignatureVersion"] == "1"
        verify(message, server.endpoint)
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0][
            "SubscriptionArn"] == "PendingConfirmation"
        # A wrong token confirms nothing.
        query = urllib.parse.parse_qs(urllib.parse.urlparse(message["SubscribeURL"]).query)
        bad = dict(message, SubscribeURL=message["SubscribeURL"].replace(
            query["Token"][0], "0" * len(query["Token"][0])))
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(bad["SubscribeURL"])
        # The SubscribeURL confirms unsigned, as a subscriber's browser or code visits it.
        answer = urllib.request.urlopen(message["SubscribeURL"]).read().decode()
        assert "<SubscriptionArn>" in answer
        [subscription] = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        assert subscription["SubscriptionArn"].startswith(arn + ":")
        # The token is a secret: the trail records the call without it.
        events = server.client("cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "ConfirmSubscription"}])["Events"]
        assert events
        for event in events:
            assert query["Token"][0] not in event["CloudTrailEvent"]
            assert json.loads(event["CloudTrailEvent"])["requestParameters"]["token"] == \
                "HIDDEN_DUE_TO_SECURITY_REASONS"
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "1"

        message_id = sns.publish(TopicArn=arn, Subject="ALARM: root usage", Message="root signed in",
                                 MessageAttributes={"severity": {"DataType": "String",
                                                                 "StringValue": "high"}})["MessageId"]
        [delivered] = subscriber.wait("Notification")
        headers = delivered["headers"]
        assert headers["x-amz-sns-message-id"] == message_id
        assert headers["x-amz-sns-subscription-arn"] == subscription["SubscriptionArn"]
        notification = json.loads(delivered["body"])
        assert notification["Message"] == "root signed in"
        assert notification["Subject"] == "ALARM: root usage"
        assert notification["MessageAttributes"] == {"severity": {"Type": "String", "Value": "high"}}
        verify(notification, server.endpoint)

        # SignatureVersion 2: SHA256withRSA.
        sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
        sns.publish(TopicArn=arn, Message=json.dumps({"default": "d", "http": "for http"}),
                    MessageStructure="json")
        second = json.loads(subscriber.wait("Notification", 2)[1]["body"])
        assert second["SignatureVersion"] == "2"
        assert second["Message"] == "for http"
        verify(second, server.endpoint)

        # A filter policy on attributes: a message it refuses is not delivered.
        sns.set_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"],
                                        AttributeName="FilterPolicy",
                                        AttributeValue=json.dumps({"severity": ["high"]}))
        sns.publish(TopicArn=arn, Message="low", MessageAttributes={
            "severity": {"DataType": "String", "StringValue": "low"}})
        sns.publish(TopicArn=arn, Message="high again", MessageAttributes={
            "severity": {"DataType": "String", "StringValue": "high"}})
        third = subscriber.wait("Notification", 3)
        assert [json.loads(m["body"])["Message"] for m in third][2] == "high again"
        assert all(json.loads(m["body"])["Message"] != "low" for m in subscriber.received
                   if m["headers"]["x-amz-sns-message-type"] == "Notification")

        # PublishBatch: ids answered, a bad entry in Failed.
        batch = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "one", "MessageAttributes": {
                "severity": {"DataType": "String", "StringValue": "high"}}},
            {"Id": "b", "Message": "two", "Subject": "x" * 101}])
        assert [s["Id"] for s in batch["Successful"]] == ["a"]
        assert [(f["Id"], f["Code"]) for f in batch["Failed"]] == [("b", "InvalidParameter")]
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
        [goodbye] = subscriber.wait("UnsubscribeConfirmation")
        assert goodbye["headers"]["x-amz-sns-subscription-arn"] == subscription["SubscriptionArn"]
        verify(json.loads(goodbye["body"]), server.endpoint)
    finally:
        subscriber.stop()


def test_deliveries_are_retried_with_the_topic_delivery_policy(server, sns):
    subscriber = Subscriber(failures=2)
    try:
        arn = sns.create_topic(Name=f"retry-{uuid.uuid4().hex[:6]}", Attributes={
            "DeliveryPolicy": json.dumps({"http": {"defaultHealthyRetryPolicy": {
                "minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3}}})})["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url)
        confirmation = json.loads(subscriber.wait("SubscriptionConfirmation")[0]["body"])
        sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])
        sns.publish(TopicArn=arn, Message="eventually")
        [delivered] = subscriber.wait("Notification")
        assert json.loads(delivered["body"])["Message"] == "eventually"
        assert subscriber.failures == 0
    finally:
        subscriber.stop()


def test_a_delivery_survives_a_restart(tmp_path):
    first = Rampart(tmp_path, RAMPART_SCHEDULER_SECONDS="1")
    subscriber = Subscriber()
    port = subscriber.httpd.server_address[1]
    try:
        sns = first.client("sns")
        arn = sns.create_topic(Name="durable", Attributes={
            "DeliveryPolicy": json.dumps({"http": {"defaultHealthyRetryPolicy": {
                "minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 100}}})})["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=subscriber.url)
        confirmation = json.loads(subscriber.wait("SubscriptionConfirmation")[0]["body"])
        sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])
        # The endpoint goes away; the message is committed, its delivery retried, then the
        # server stops.
        subscriber.stop()
        subscriber.httpd.server_close()
        sns.publish(TopicArn=arn, Message="after the restart")
    finally:
        first.stop()
    second = Rampart(tmp_path, RAMPART_SCHEDULER_SECONDS="1")
    back = Subscriber(port=port)
    try:
        [delivered] = back.wait("Notification")
        assert json.loads(delivered["body"])["Message"] == "after the restart"
    finally:
        back.stop()
        second.stop()


def test_email_goes_to_the_outbox(server, sns):
    outbox = server.data_dir / "outbox" / "sns"
    arn = sns.create_topic(Name="mail")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="ops@example.com")

    def files():
        return sorted(outbox.glob("*.json")) if outbox.exists() else []
    [first] = wait_for(files)
    confirmation = json.loads(first.read_text())
    assert confirmation["Type"] == "SubscriptionConfirmation"
    sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])
    sns.publish(TopicArn=arn, Message="to the outbox", Subject="hello")
    notification = json.loads(wait_for(lambda: len(files()) >= 2 and files())[1].read_text())
    assert notification["Message"] == "to the outbox"
    verify(notification, server.endpoint)


def test_unserved_protocols_and_other_hosts_are_refused(sns):
    arn = sns.create_topic(Name="guarded")["TopicArn"]
    refused = error_of(lambda: sns.subscribe(TopicArn=arn, Protocol="http",
                                             Endpoint="http://10.1.2.3/hook"))
    assert refused["Code"] == "InvalidParameter"
    assert "--sns-endpoints any" in refused["Message"]
    for protocol, endpoint in [("sqs", f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:q"),
                               ("lambda", f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:f")]:
        refused = error_of(lambda: sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint))
        assert refused["Code"] == "InvalidParameter"
        assert "Rampart does not deliver" in refused["Message"]
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    too_long = error_of(lambda: sns.publish(TopicArn=arn, Message="x" * (256 * 1024 + 1)))
    assert (too_long["Code"], too_long["Message"]) == ("InvalidParameter",
                                                       "Invalid parameter: Message too long")


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_client(server, *statements, iam=None):
    iam = iam or server.client("iam")
    name = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("sns", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"]), name


def test_a_deny_stops_each_family(server, sns):
    arn = sns.create_topic(Name="denied", Tags=[{"Key": "team", "Value": "red"}])["TopicArn"]
    allowed, _ = user_client(server, {"Effect": "Allow", "Action": "sns:*", "Resource": "*"})
    denied, _ = user_client(server, {"Effect": "Allow", "Action": "sns:*", "Resource": "*"},
                            {"Effect": "Deny", "Action": "sns:*", "Resource": "*",
                             "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}}},
                            {"Effect": "Deny", "Action": "sns:CreateTopic", "Resource": "*"})
    calls = {
        "GetTopicAttributes": lambda c: c.get_topic_attributes(TopicArn=arn),
        "SetTopicAttributes": lambda c: c.set_topic_attributes(
            TopicArn=arn, AttributeName="DisplayName", AttributeValue="x"),
        "TagResource": lambda c: c.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "red"}]),
        "AddPermission": lambda c: c.add_permission(TopicArn=arn, Label="l", AWSAccountId=[ACCOUNT_ID],
                                                    ActionName=["Publish"]),
        "RemovePermission": lambda c: c.remove_permission(TopicArn=arn, Label="l"),
        "Subscribe": lambda c: c.subscribe(TopicArn=arn, Protocol="email", Endpoint="a@example.com"),
        "ListSubscriptionsByTopic": lambda c: c.list_subscriptions_by_topic(TopicArn=arn),
        "Publish": lambda c: c.publish(TopicArn=arn, Message="m"),
        "PublishBatch": lambda c: c.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "1", "Message": "m"}]),
    }
    for name, call in calls.items():
        call(allowed)
        refused = error_of(lambda: call(denied))
        assert refused["Code"] == "AuthorizationError", name
        assert "is not authorized to perform: sns:" in refused["Message"], name
    assert error_of(lambda: denied.create_topic(Name="nope"))["Code"] == "AuthorizationError"
    allowed.create_topic(Name="yes")


def test_a_topic_policy_deny_stops_publish(server, sns):
    arn = sns.create_topic(Name="policy-deny")["TopicArn"]
    publisher, name = user_client(server, {"Effect": "Allow", "Action": "sns:Publish", "Resource": arn})
    publisher.publish(TopicArn=arn, Message="allowed")
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=doc(
        {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
         "Action": "sns:*", "Resource": arn},
        {"Sid": "no", "Effect": "Deny", "Principal": {"AWS": user_arn}, "Action": "sns:Publish",
         "Resource": arn}))
    refused = error_of(lambda: publisher.publish(TopicArn=arn, Message="denied"))
    assert refused["Code"] == "AuthorizationError"
    sns.publish(TopicArn=arn, Message="the owner still publishes")


def create_account(server, account_id):
    out = subprocess.run(
        [os.environ["RAMPART_BIN"], "admin", "create-account", "--account-id", account_id,
         "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, check=True).stdout
    field = lambda name: next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith(name))
    return field("root access key id"), field("root secret access key")


def test_another_account_publishes_only_when_the_topic_policy_allows(server, sns):
    key, secret = create_account(server, OTHER_ACCOUNT)
    other_iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                             aws_access_key_id=key, aws_secret_access_key=secret)
    arn = sns.create_topic(Name="shared")["TopicArn"]
    bob, _ = user_client(server, {"Effect": "Allow", "Action": "sns:Publish", "Resource": arn},
                         iam=other_iam)
    # His account allows; the topic's default policy does not (AWS:SourceOwner is not his).
    assert error_of(lambda: bob.publish(TopicArn=arn, Message="x"))["Code"] == "AuthorizationError"
    sns.add_permission(TopicArn=arn, Label="other", AWSAccountId=[OTHER_ACCOUNT], ActionName=["Publish"])
    assert bob.publish(TopicArn=arn, Message="across")["MessageId"]
    # The policy grants Publish only.
    assert error_of(lambda: bob.get_topic_attributes(TopicArn=arn))["Code"] == "AuthorizationError"
    sns.remove_permission(TopicArn=arn, Label="other")
    assert error_of(lambda: bob.publish(TopicArn=arn, Message="x"))["Code"] == "AuthorizationError"
