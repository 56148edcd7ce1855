"""The S3 side of tests/publish/run.sh, with boto3 (installed with moto).

    s3.py --endpoint URL --bucket B create      the bucket, public-read policy, CORS
    s3.py --endpoint URL --bucket B keys PREFIX every key under PREFIX, one a line
    s3.py --endpoint URL --bucket B --prefix P puts FILE
                                                keys of the PUT requests in moto's
                                                request log FILE, relative to P,
                                                one a line
"""

import argparse
import json
import sys
from urllib.parse import unquote, urlsplit

import boto3


def client(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
    )


def create(args):
    s3 = client(args.endpoint)
    s3.create_bucket(Bucket=args.bucket)
    # Anonymous readers (a CDN, the verifier) may GET objects, nothing else:
    # the policy a real bucket behind a CDN needs (spec/publishing.md §6).
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadOfThePublishedLog",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{args.bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=args.bucket, Policy=json.dumps(policy))
    # Browsers verifying from another origin ("verify here").
    s3.put_bucket_cors(
        Bucket=args.bucket,
        CORSConfiguration={
            "CORSRules": [
                {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"], "MaxAgeSeconds": 3600}
            ]
        },
    )


def keys(args):
    s3 = client(args.endpoint)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=args.arg):
        for o in page.get("Contents", []):
            print(o["Key"])


def records(path):
    """The request log's JSON records. moto's threads may write two records
    on one line, so the text is read as a stream of JSON values rather than
    one per line."""
    text = open(path).read()
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return
        record, at = decoder.raw_decode(text, at)
        yield record


def puts(args):
    strip = args.prefix.strip("/") + "/" if args.prefix else ""
    for r in records(args.arg):
        if r["method"] != "PUT":
            continue
        path = unquote(urlsplit(r["url"]).path).lstrip("/")
        bucket, _, key = path.partition("/")
        if bucket != args.bucket or not key.startswith(strip):
            sys.exit(f"unexpected PUT {r['url']}")
        print(key[len(strip) :])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", default="")
    p.add_argument("command", choices=["create", "keys", "puts"])
    p.add_argument("arg", nargs="?", default="")
    args = p.parse_args()
    {"create": create, "keys": keys, "puts": puts}[args.command](args)


main()
