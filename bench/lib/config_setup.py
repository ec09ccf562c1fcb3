"""Set-up for bench/config.sh, through boto3 as root: a String parameter, a secret (when the
server serves Secrets Manager) and COUNT parameters under one path; then the time to read
that path whole with GetParametersByPath's paginator.

Usage: config_setup.py setup HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY COUNT
         prints "secrets yes|no"
       config_setup.py walk HOST:PORT ACCESS_KEY_ID SECRET_ACCESS_KEY COUNT
         reads /bench/many/ whole (MaxResults 10, then 10 per page as AWS's maximum) and
         prints "pages N parameters M seconds S", failing unless M == COUNT
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.exceptions import ClientError

REGION = "us-east-1"
PATH = "/bench/many"


def client(service, host, key, secret):
    return boto3.client(service, endpoint_url=f"http://{host}", region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def setup(host, key, secret, count):
    ssm = client("ssm", host, key, secret)
    ssm.put_parameter(Name="/bench/one", Value="a value of thirty-two characters", Type="String")

    def put(indices):
        own = client("ssm", host, key, secret)
        for i in indices:
            # Intelligent-Tiering: past the Standard quota of 10,000 the rest become Advanced.
            own.put_parameter(Name=f"{PATH}/p{i:05d}", Value=f"value {i}", Type="String",
                              Tier="Intelligent-Tiering")

    threads = 8
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, [range(t, count, threads) for t in range(threads)]))
    try:
        client("secretsmanager", host, key, secret).create_secret(
            Name="bench/secret", SecretString='{"username":"bench","password":"s3cr3t-value"}')
        print("secrets yes")
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("NotImplemented", "UnknownOperationException",
                                               "InvalidAction", "UnrecognizedClientException"):
            raise
        print("secrets no")


def walk(host, key, secret, count):
    ssm = client("ssm", host, key, secret)
    pages = found = 0
    started = time.perf_counter()
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path=PATH, PaginationConfig={"PageSize": 10}):
        pages += 1
        found += len(page["Parameters"])
    seconds = time.perf_counter() - started
    if found != count:
        sys.exit(f"GetParametersByPath found {found} parameters of {count}")
    print(f"pages {pages} parameters {found} seconds {seconds:.2f}")


def main():
    mode, host, key, secret, count = sys.argv[1:6]
    {"setup": setup, "walk": walk}[mode](host, key, secret, int(count))


if __name__ == "__main__":
    main()
