#!/usr/bin/env python3
"""Signs a few requests with botocore and writes them as SigV4 vectors.

The vectors land in ../vectors/botocore/*.json and are verified by
tests/vectors.rs at their fixed time. They are committed; rerun this script
only to refresh them (for example after a botocore upgrade):

    python3 -m venv /root/.cache/rampart-sigv4-venv
    /root/.cache/rampart-sigv4-venv/bin/pip install botocore
    /root/.cache/rampart-sigv4-venv/bin/python crates/sigv4/tests/botocore/generate_vectors.py

Nothing is sent over the network: a `before-send` hook captures each
request as botocore would put it on the wire, then stops the call.
"""

import datetime
import json
import pathlib
from unittest import mock

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session

OUT = pathlib.Path(__file__).resolve().parent.parent / "vectors" / "botocore"
ENDPOINT = "http://localhost:4566"
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE//token+with/odd=chars"
# A fixed signing time so the vectors are reproducible.
SIGNED_AT = datetime.datetime(2026, 11, 24, 10, 30, 0)
AMZ_DATE = SIGNED_AT.strftime("%Y%m%dT%H%M%SZ")


class Captured(Exception):
    pass


def client(service, token=None):
    session = botocore.session.get_session()
    c = session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
    )
    captured = {}

    def capture(request, **_kwargs):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        captured["request"] = {
            "method": request.method,
            "uri": request.url,
            "headers": [[k.lower(), v.decode() if isinstance(v, bytes) else v]
                        for k, v in request.headers.items()],
            "body": body.decode(),
        }
        raise Captured()

    c.meta.events.register("before-send", capture)
    return c, captured


def call(service, operation, params, token=None):
    c, captured = client(service, token)
    try:
        getattr(c, operation)(**params)
    except Captured:
        pass
    return captured["request"]


def presign_get(url, token, expires):
    """Presigns a GET the way tools that build STS URLs by hand do (SigV4QueryAuth)."""
    credentials = botocore.credentials.Credentials(AKID, SECRET, token)
    request = botocore.awsrequest.AWSRequest(method="GET", url=url)
    botocore.auth.SigV4QueryAuth(credentials, "sts", "us-east-1", expires=expires).add_auth(request)
    return request.prepare().url


def vector(description, request, token=None, expires=None, expect=None):
    v = {
        "description": description,
        "generator": f"botocore {botocore.__version__}",
        "request": request,
        "credentials": {"access_key_id": AKID, "secret_access_key": SECRET},
        "region": "us-east-1",
        "time": AMZ_DATE,
        "sign": "none",
    }
    if token:
        v["credentials"]["session_token"] = token
        v["expect_security_token"] = True
    if expires:
        v["expires"] = expires
    if expect:
        v["expect"] = expect
    return v


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vectors = {}
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT):
        vectors["sts-assume-role-form-post"] = vector(
            "STS AssumeRole: awsQuery form POST, header auth, temporary credentials.",
            call("sts", "assume_role", {
                "RoleArn": "arn:aws:iam::123456789012:role/demo role",
                "RoleSessionName": "s1",
                "Policy": '{"Version":"2012-10-17","Statement":[]}',
            }, token=SESSION_TOKEN),
            token=SESSION_TOKEN,
        )
        vectors["iam-list-users-form-post"] = vector(
            "IAM ListUsers: awsQuery form POST with a path prefix, header auth.",
            call("iam", "list_users", {"PathPrefix": "/division_abc/sub division/"}),
        )
        vectors["kms-encrypt-json-post"] = vector(
            "KMS Encrypt: awsJson1.1 POST with X-Amz-Target, header auth.",
            call("kms", "encrypt", {"KeyId": "alias/demo", "Plaintext": b"hello \xe2\x82\xac",
                                    "EncryptionContext": {"purpose": "a b+c"}}),
        )
        # generate_presigned_url signs the operation's own method: POST for
        # the Query protocol, with the body moved into the query string.
        c, _ = client("sts")
        url = c.generate_presigned_url("get_caller_identity", ExpiresIn=900)
        vectors["sts-get-caller-identity-presigned"] = vector(
            "STS GetCallerIdentity URL from generate_presigned_url, sent as botocore signed it: "
            "POST with an empty body (botocore signs the empty body's SHA-256, not UNSIGNED-PAYLOAD).",
            {"method": "POST", "uri": url, "headers": [["host", "localhost:4566"]], "body": ""},
            expires=900,
        )
        vectors["sts-get-caller-identity-presigned-sent-as-get"] = vector(
            "The same URL fetched with GET: the method is signed, so AWS answers SignatureDoesNotMatch "
            "(boto/boto3#756 shows AWS's canonical request starting with GET).",
            {"method": "GET", "uri": url, "headers": [["host", "localhost:4566"]], "body": ""},
            expires=900,
            expect={"code": "SignatureDoesNotMatch"},
        )
        url = presign_get(ENDPOINT + "/?Action=GetCallerIdentity&Version=2011-06-15", SESSION_TOKEN, 60)
        vectors["sts-get-caller-identity-presigned-get"] = vector(
            "STS GetCallerIdentity presigned as a GET with SigV4QueryAuth, session token in the query.",
            {"method": "GET", "uri": url, "headers": [["host", "localhost:4566"]], "body": ""},
            token=SESSION_TOKEN,
            expires=60,
        )
    for name, v in vectors.items():
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(v, indent=2, ensure_ascii=False) + "\n")
        print(path)


if __name__ == "__main__":
    main()
