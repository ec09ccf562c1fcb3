"""KMS Encrypt for the benchmark (bench/kms.sh), signed with botocore's SigV4 signer.

Usage: kms.py encrypt HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY SIZE
         creates a symmetric key (boto3), sends one header-signed Encrypt of SIZE bytes and
         checks it (200, and the blob decrypts back through boto3), then prints a wrk Lua
         snippet replaying that request: POST, awsJson1.1 body, SigV4 `Authorization` header
         (valid while X-Amz-Date is within 15 minutes; Encrypt changes no state, so replaying
         one signed request is the client's request, each time audited anew)
"""

import base64
import json
import sys

import boto3

from json_call import REGION, print_lua, send


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
    status, answer, headers = send(host, access_key_id, secret, "kms", "TrentService.Encrypt", body)
    if status != 200:
        sys.exit(f"Encrypt answered {status}: {answer[:300]!r}")
    blob = base64.b64decode(json.loads(answer)["CiphertextBlob"])
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "bench"})
    if decrypted["Plaintext"] != plaintext:
        sys.exit("the benchmark's ciphertext does not decrypt to its plaintext")
    print_lua(body, headers)


if __name__ == "__main__":
    main()
