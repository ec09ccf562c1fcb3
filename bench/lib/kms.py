"""KMS Encrypt for the benchmark (bench/kms.sh), signed with botocore's SigV4 signer.

Usage: kms.py encrypt HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY SIZE
         creates a symmetric key (boto3), sends one header-signed Encrypt of SIZE bytes and
         checks it (200, and the blob decrypts back through boto3), then prints a wrk Lua
         snippet replaying that request: POST, awsJson1.1 body, SigV4 `Authorization` header
         (valid while X-Amz-Date is within 15 minutes; Encrypt changes no state, so replaying
         one signed request is the client's request, each time audited anew)
"""

import base64
import http.client
import json
import sys

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    mode, host, access_key_id, secret, size = sys.argv[1:6]
    if mode != "encrypt":
        sys.exit(f"unknown mode {mode!r}: encrypt")
    kms = boto3.client("kms", endpoint_url=f"http://{host}", region_name=REGION,
                       aws_access_key_id=access_key_id, aws_secret_access_key=secret)
    key_id = kms.create_key(Description="bench")["KeyMetadata"]["KeyId"]
    plaintext = bytes(i % 251 for i in range(int(size)))
    body = json.dumps({"KeyId": key_id, "Plaintext": base64.b64encode(plaintext).decode(),
                       "EncryptionContext": {"purpose": "bench"}})
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "TrentService.Encrypt",
    })
    SigV4Auth(Credentials(access_key_id, secret), "kms", REGION).add_auth(request)
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("POST", "/", body=body, headers=dict(request.headers.items()))
    response = conn.getresponse()
    answer = response.read()
    if response.status != 200:
        sys.exit(f"Encrypt answered {response.status}: {answer[:300]!r}")
    blob = base64.b64decode(json.loads(answer)["CiphertextBlob"])
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "bench"})
    if decrypted["Plaintext"] != plaintext:
        sys.exit("the benchmark's ciphertext does not decrypt to its plaintext")
    print('wrk.method = "POST"')
    print(f"wrk.body = {lua_string(body)}")
    for name, value in request.headers.items():
        print(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")


if __name__ == "__main__":
    main()
