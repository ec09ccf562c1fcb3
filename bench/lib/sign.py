"""Sign STS GetCallerIdentity for HOST:PORT with botocore's SigV4 signers.

Usage: sign.py query  HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY [REGION]
         prints a presigned URL (query-string auth) signed for GET, valid 7 days
       sign.py header HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY [REGION]
         prints a wrk Lua snippet sending the request as the SDKs do: POST, form body,
         SigV4 `Authorization` header (valid while X-Amz-Date is within 15 minutes)
       sign.py send   HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY [REGION]
         sends that header-signed POST once and prints the status and the body

boto3's generate_presigned_url keeps the operation's POST as the signed method, so the URL is
signed here with SigV4QueryAuth on a GET request instead: wrk replays it as a plain GET. Either
signature covers the `host` header, so it is valid for that host:port only.
"""

import http.client
import sys

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# The longest validity SigV4 allows: the benchmark must not outlive its URL.
EXPIRES_SECONDS = 604800
PARAMS = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
BODY = "Action=GetCallerIdentity&Version=2011-06-15"


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    mode, host, access_key_id, secret = sys.argv[1:5]
    region = sys.argv[5] if len(sys.argv) > 5 else "us-east-1"
    credentials = Credentials(access_key_id, secret)
    if mode == "query":
        request = AWSRequest(method="GET", url=f"http://{host}/", params=PARAMS)
        SigV4QueryAuth(credentials, "sts", region, expires=EXPIRES_SECONDS).add_auth(request)
        print(request.prepare().url)
    elif mode in ("header", "send"):
        request = AWSRequest(
            method="POST",
            url=f"http://{host}/",
            data=BODY,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(credentials, "sts", region).add_auth(request)
        if mode == "send":
            conn = http.client.HTTPConnection(host, timeout=30)
            conn.request("POST", "/", body=BODY, headers=dict(request.headers.items()))
            response = conn.getresponse()
            print(response.status)
            print(response.read().decode("utf-8", "replace"))
            return
        print('wrk.method = "POST"')
        print(f"wrk.body = {lua_string(BODY)}")
        for name, value in request.headers.items():
            print(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    else:
        sys.exit(f"unknown mode {mode!r}: query, header or send")


if __name__ == "__main__":
    main()
