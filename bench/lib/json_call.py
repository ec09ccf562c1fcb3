"""One awsJson1.1 call for the benchmarks, signed with botocore's SigV4 signer.

Usage: json_call.py HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY SERVICE TARGET BODY_JSON [EXPECT]
         sends the header-signed POST once, checks that it answers 200 (and that the answer
         holds EXPECT, if given), then prints a wrk Lua snippet replaying it (valid while
         X-Amz-Date is within 15 minutes; the benchmarked calls change no state, so replaying
         one signed request is the client's request, each time authorized and audited anew).
"""

import http.client
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def send(host: str, access_key_id: str, secret: str, service: str, target: str, body: str):
    """Sends one header-signed awsJson1.1 POST; returns (status, answer text, signed headers)."""
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": target,
    })
    SigV4Auth(Credentials(access_key_id, secret), service, REGION).add_auth(request)
    headers = dict(request.headers.items())
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("POST", "/", body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read().decode(), headers


def print_lua(body: str, headers: dict) -> None:
    """Prints the wrk Lua snippet that replays the request."""
    print('wrk.method = "POST"')
    print(f"wrk.body = {lua_string(body)}")
    for name, value in headers.items():
        print(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")


def main() -> None:
    host, access_key_id, secret, service, target, body = sys.argv[1:7]
    expect = sys.argv[7] if len(sys.argv) > 7 else ""
    status, answer, headers = send(host, access_key_id, secret, service, target, body)
    if status != 200 or expect not in answer:
        sys.exit(f"{target} answered {status}: {answer[:300]!r}")
    print_lua(body, headers)


if __name__ == "__main__":
    main()
