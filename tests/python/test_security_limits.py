"""Bounded inputs and hardened edges (review findings 8, 10 and 11), replayed against a real
rampart process: what an unauthenticated or careless caller can make the journal hold and the
answer weigh, which headers a signature must cover, and who may reset the server."""

import http.client
import json
import struct
import urllib.parse
import zlib

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY, Rampart

KMS_TARGET = "TrentService"


@pytest.fixture()
def server(tmp_path):
    """A fresh server per test: the unauthenticated-failure budget is per source (here,
    127.0.0.1) and per process, so one test's flood must not spend another's."""
    rampart = Rampart(tmp_path / "data", RAMPART_ENABLE_RESET="true")
    yield rampart
    rampart.stop()


def journal(rampart):
    """(count, bytes, texts) of the journal, read from the audit log's segment files as another
    reader would beside the running server: every whole record, in order, up to the first
    that is not (docs/ARCHITECTURE.md describes the format; crates/store/src/log_record.rs the
    payload)."""
    texts = []
    for segment in sorted((rampart.data_dir / "rampart.journal").glob("*.seg")):
        data = segment.read_bytes()
        assert data[:8] == b"RMPJRNL1"
        offset, seq = 24, struct.unpack_from("<Q", data, 8)[0]
        while offset + 16 <= len(data):
            length, crc, record_seq = struct.unpack_from("<IIQ", data, offset)
            payload = data[offset + 16:offset + 16 + length]
            whole = len(payload) == length and record_seq == seq and crc == zlib.crc32(
                data[offset:offset + 4] + data[offset + 8:offset + 16] + payload)
            if not whole:
                break
            offset, seq = offset + 16 + length, seq + 1
            if payload[0] & 2:  # a filler, no event
                continue
            at = 11  # flags, present, event time, read-only
            for _ in range(6):  # account, event ID, name, source, user name, access key
                (n,) = struct.unpack_from("<I", payload, at)
                at += 4 + (0 if n == 0xFFFFFFFF else n)
            (resources,) = struct.unpack_from("<I", payload, at)
            at += 4
            for _ in range(2 * resources):
                (n,) = struct.unpack_from("<I", payload, at)
                at += 4 + n
            texts.append(payload[at:].decode())
    return len(texts), sum(len(t) for t in texts), texts


def connect(rampart):
    host = urllib.parse.urlparse(rampart.endpoint).netloc
    return http.client.HTTPConnection(host, timeout=30), host


def raw(rampart, method, headers, body=b""):
    """Sends a request exactly as given; returns (status, body bytes)."""
    conn, _ = connect(rampart)
    try:
        conn.request(method, "/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def signed_headers(rampart, service, body, headers, unsigned=None):
    """Headers of a request signed by botocore's SigV4 signer (what boto3 and the AWS CLI
    use), plus `unsigned` headers added after signing, as a relay could add them."""
    _, host = connect(rampart)
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=f"{rampart.endpoint}/", data=body, headers=dict(headers))
    credentials = botocore.credentials.Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    botocore.auth.SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    out = dict(request.headers.items())
    out["Host"] = host
    out.update(unsigned or {})
    return out


def kms_call(rampart, operation, payload, unsigned_target=None):
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if unsigned_target is None:
        headers["X-Amz-Target"] = f"{KMS_TARGET}.{operation}"
        extra = None
    else:
        extra = {"X-Amz-Target": f"{KMS_TARGET}.{unsigned_target}"}
    return raw(rampart, "POST", signed_headers(rampart, "kms", body, headers, extra), body)


# --- Finding 8: the journal and the answers are bounded -------------------------------------

def test_unauthenticated_flood_grows_the_journal_by_a_small_bounded_amount(server):
    """20 unauthenticated requests with a 150 KB Authorization header added 6.3 MB (the header
    was quoted twice in each event's error message)."""
    count_before, bytes_before, _ = journal(server)
    junk = "x" * 150_000
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 {junk}",
        "X-Amz-Date": "20261124T103000Z",
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "u" * 50_000,
    }
    answers = []
    for _ in range(20):
        status, body = raw(server, "POST", headers, b"Action=GetCallerIdentity&Version=2011-06-15")
        assert status == 400, body[:200]
        assert b"<Code>IncompleteSignature</Code>" in body
        answers.append(len(body))
    # The answer keeps AWS's wording, quoting a short prefix of the header.
    assert max(answers) < 2_000, answers

    count_after, bytes_after, texts = journal(server)
    recorded = texts[count_before:]
    # The source's burst is recorded; the rest is counted for its next recorded event.
    assert 1 <= count_after - count_before <= 10, count_after - count_before
    assert bytes_after - bytes_before < 30_000, bytes_after - bytes_before
    for text in recorded:
        event = json.loads(text)
        assert event["errorCode"] == "IncompleteSignature"
        assert "xxxxxxxxxx" not in text, "no part of the Authorization header is recorded"
        assert len(event["userAgent"]) == 1024
        assert event["sourceIPAddress"] == "127.0.0.1"


def test_an_8_mb_key_id_gets_a_small_answer_and_no_event(server):
    """One KMS request with an 8 MB KeyId added 12 MB to the journal and got an 8 MB answer."""
    count_before, bytes_before, _ = journal(server)
    body = json.dumps({"KeyId": "k" * (8 * 1024 * 1024)}).encode()
    headers = signed_headers(server, "kms", body, {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"{KMS_TARGET}.DescribeKey",
    })
    conn, _ = connect(server)
    try:
        # The body's declared length is refused before a byte of it is read: the answer
        # comes back without the body being sent.
        conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        response = conn.getresponse()
        answer = response.read()
    finally:
        conn.close()
    assert response.status == 413
    assert len(answer) < 500, len(answer)
    error = json.loads(answer)
    assert error["__type"] == "RequestEntityTooLargeException"
    assert "1048576 bytes" in error["message"]
    count_after, bytes_after, _ = journal(server)
    assert count_after == count_before and bytes_after == bytes_before


def test_a_long_key_id_within_the_body_bound_is_quoted_by_a_prefix(server):
    """Under the body bound, validation answers as AWS words it, quoting 256 bytes; the
    authenticated caller's failed call is recorded, one small event."""
    count_before, bytes_before, _ = journal(server)
    status, answer = kms_call(server, "DescribeKey", {"KeyId": "k" * 500_000})
    assert status == 400
    error = json.loads(answer)
    assert error["__type"] == "ValidationException"
    assert error["message"] == (
        f"1 validation error detected: Value '{'k' * 256}...' at 'keyId' failed to satisfy "
        "constraint: Member must have length less than or equal to 2048")
    count_after, bytes_after, texts = journal(server)
    assert count_after == count_before + 1
    assert bytes_after - bytes_before < 4_000
    event = json.loads(texts[-1])
    assert event["errorCode"] == "ValidationException"
    assert event["userIdentity"]["type"] == "Root"


def test_short_values_are_still_quoted_whole(server):
    kms = server.client("kms")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        kms.create_key(KeySpec="AES")
    assert excinfo.value.response["Error"]["Message"].startswith(
        "1 validation error detected: Value 'AES' at 'keySpec' failed to satisfy constraint")


def test_authenticated_failures_are_each_recorded(server):
    """The per-source budget is for unauthenticated calls only: an authenticated caller's
    failed calls each get their event, as AWS records them."""
    iam = server.client("iam")
    count_before, _, _ = journal(server)
    for _ in range(15):
        with pytest.raises(botocore.exceptions.ClientError):
            iam.get_user(UserName="nobody-here")
    count_after, _, _ = journal(server)
    assert count_after - count_before == 15


# --- Finding 10: the headers that select the operation must be signed ----------------------

def test_an_unsigned_target_cannot_be_swapped(server):
    """A KMS request signed without X-Amz-Target was replayed as CreateKey."""
    kms = server.client("kms")
    keys_before = len(kms.list_keys()["Keys"])
    status, answer = kms_call(server, "ListKeys", {}, unsigned_target="CreateKey")
    assert status == 400
    error = json.loads(answer)
    assert error["__type"] == "InvalidSignatureException"
    assert error["message"] == "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    assert len(kms.list_keys()["Keys"]) == keys_before, "no key was created"
    # Signed, the same call works.
    status, answer = kms_call(server, "ListKeys", {})
    assert status == 200, answer


def test_an_unsigned_form_content_type_is_refused(server):
    """A Query body is read as parameters only under a signed Content-Type."""
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    headers = signed_headers(server, "sts", body, {}, {
        "Content-Type": "application/x-www-form-urlencoded"})
    status, answer = raw(server, "POST", headers, body)
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer
    assert b"'Content-Type' must be a 'SignedHeader'" in answer
    signed = signed_headers(server, "sts", body, {
        "Content-Type": "application/x-www-form-urlencoded"})
    status, answer = raw(server, "POST", signed, body)
    assert status == 200, answer
    assert f"<Account>{ACCOUNT_ID}</Account>".encode() in answer


def test_sdk_clients_sign_what_is_required(server):
    assert server.client("sts").get_caller_identity()["Account"] == ACCOUNT_ID
    assert "Keys" in server.client("kms").list_keys()
    result = server.aws("kms", "list-keys")
    assert result.returncode == 0, result.stderr


# --- Finding 11: reset refuses browsers and is journaled -----------------------------------

def reset(rampart, headers, body=b"{}"):
    conn, _ = connect(rampart)
    try:
        conn.request("POST", "/_rampart/reset", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_cross_site_reset_is_refused(server):
    iam = server.client("iam")
    iam.create_user(UserName="survivor")
    # What any web page can make a browser send: a simple text/plain POST.
    status, _ = reset(server, {"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert status == 403
    status, _ = reset(server, {"Content-Type": "text/plain", "Origin": "https://evil.example",
                               "X-Rampart-Reset": "true"})
    assert status == 403
    status, _ = reset(server, {"Content-Type": "text/plain"})
    assert status == 400
    assert iam.get_user(UserName="survivor")["User"]["UserName"] == "survivor"


def test_a_deliberate_reset_is_journaled(server):
    iam = server.client("iam")
    iam.create_user(UserName="temporary")
    status, answer = reset(server, {"X-Rampart-Reset": "true", "User-Agent": "pytest-reset"})
    assert status == 200, answer
    with pytest.raises(botocore.exceptions.ClientError):
        iam.get_user(UserName="temporary")
    events = server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "rampart.local"}],
    )["Events"]
    assert [e["EventName"] for e in events] == ["Reset"]
    event = json.loads(events[0]["CloudTrailEvent"])
    assert event["sourceIPAddress"] == "127.0.0.1"
    assert event["userAgent"] == "pytest-reset"
    assert event["recipientAccountId"] == ACCOUNT_ID
