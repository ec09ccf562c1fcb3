"""IAM requests for the server benchmark (bench/run.sh), signed with SigV4.

Usage: iam.py setup        HOST:PORT ROOT_KEY_ID ROOT_SECRET POLICIES
         through boto3, as root: creates POLICIES customer managed policies, a user
         `bench-reader` with all of them attached, and an access key for it; prints
         "ACCESS_KEY_ID SECRET_ACCESS_KEY" of that key
       iam.py listusers    HOST:PORT ACCESS_KEY_ID SECRET
         prints a wrk Lua snippet sending a header-signed IAM ListUsers POST
       iam.py send-listusers HOST:PORT ACCESS_KEY_ID SECRET
         sends that ListUsers POST once and prints the status and the body
       iam.py createuser   HOST:PORT ACCESS_KEY_ID SECRET COUNT FILES PREFIX
         writes COUNT header-signed IAM CreateUser requests, each for a new user name
         PREFIX-<n>, as raw HTTP/1.1 requests, one per line with CRLF written as TAB,
         dealt round-robin into the FILES paths that follow COUNT (one per wrk thread;
         bench/lib/replay.lua sends each exactly once)

Header signatures are valid while X-Amz-Date is within 15 minutes of the server's clock, so
the CreateUser requests are made just before they are sent. They are signed here with
hashlib/hmac (botocore's SigV4Auth costs ~0.2 ms per request); the first one is checked to be
byte-for-byte what botocore signs, so both signers agree.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import sys

REGION = "us-east-1"
IAM_VERSION = "2010-05-08"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def botocore_headers(host, key_id, secret, body, amz_date=None):
    """Headers of an IAM POST of `body` to http://host/, signed by botocore."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    import botocore.auth

    request = AWSRequest(
        method="POST", url=f"http://{host}/", data=body, headers={"Content-Type": CONTENT_TYPE}
    )
    if amz_date is not None:
        # botocore reads the clock through this function: pin it to the instant compared.
        botocore.auth.get_current_datetime = lambda *args, **kwargs: amz_date.replace(tzinfo=None)
    SigV4Auth(Credentials(key_id, secret), "iam", REGION).add_auth(request)
    return dict(request.headers.items())


class FastSigner:
    """SigV4 for IAM POSTs to one host at one instant, the signing key derived once."""

    def __init__(self, host, key_id, secret, now):
        self.host = host
        self.key_id = key_id
        self.amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = self.amz_date[:8]
        key = ("AWS4" + secret).encode()
        for part in (day, REGION, "iam", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self.key = key
        self.scope = f"{day}/{REGION}/iam/aws4_request"

    def headers(self, body: str):
        payload_hash = hashlib.sha256(body.encode()).hexdigest()
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{CONTENT_TYPE}",
                f"host:{self.host}",
                f"x-amz-date:{self.amz_date}",
                "",
                "content-type;host;x-amz-date",
                payload_hash,
            ]
        )
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                self.amz_date,
                self.scope,
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        signature = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        return {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Date": self.amz_date,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={self.key_id}/{self.scope}, "
                f"SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
            ),
        }


def raw_request(host, headers, body):
    lines = ["POST / HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body.encode())}", "", body]
    return "\r\n".join(lines)


def send(host, headers, body):
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("POST", "/", body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


def setup(host, key_id, secret, policies):
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=f"http://{host}",
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )
    user = "bench-reader"
    iam.create_user(UserName=user)
    for i in range(policies):
        # Five statements each, as a realistic policy has: only the last allows ListUsers, the
        # others allow or deny other actions, so evaluation looks at all the policies.
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": f"s3:GetObject", "Resource": f"arn:aws:s3:::bucket-{i}/*"},
                {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "iam:GetUser",
                    "Resource": "arn:aws:iam::*:user/${aws:username}",
                },
                {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListGroups"], "Resource": "*"},
            ],
        }
        arn = iam.create_policy(PolicyName=f"bench-policy-{i}", PolicyDocument=json.dumps(document))[
            "Policy"
        ]["Arn"]
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    print(key["AccessKeyId"], key["SecretAccessKey"])


def main() -> None:
    mode, host, key_id, secret = sys.argv[1:5]
    if mode == "setup":
        setup(host, key_id, secret, int(sys.argv[5]))
    elif mode in ("listusers", "send-listusers"):
        body = f"Action=ListUsers&Version={IAM_VERSION}"
        headers = botocore_headers(host, key_id, secret, body)
        if mode == "send-listusers":
            status, text = send(host, headers, body)
            print(status)
            print(text)
            return
        print('wrk.method = "POST"')
        print(f"wrk.body = {lua_string(body)}")
        for name, value in headers.items():
            print(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    elif mode == "createuser":
        count, files, prefix = int(sys.argv[5]), sys.argv[6:-1], sys.argv[-1]
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        signer = FastSigner(host, key_id, secret, now)
        bodies = (
            f"Action=CreateUser&Version={IAM_VERSION}&UserName={prefix}-{n}" for n in range(count)
        )
        outputs = [open(path, "w", encoding="utf-8") for path in files]
        for n, body in enumerate(bodies):
            headers = signer.headers(body)
            if n == 0:
                expected = botocore_headers(host, key_id, secret, body, now)
                if expected.get("Authorization") != headers["Authorization"]:
                    sys.exit(f"signature differs from botocore's: {expected} != {headers}")
            outputs[n % len(outputs)].write(raw_request(host, headers, body).replace("\r\n", "\t") + "\n")
        for output in outputs:
            output.close()
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
