#!/usr/bin/python3
"""Sign requests with botocore at a fixed time; print one Authorization header per line.

stdin: JSON list of {"method", "url", "headers": {..}, "body", "service", "region",
"ak", "sk", "token"?, "when": "YYYYmmddTHHMMSSZ"}. Used by tests/probes/common/test_cloud_sigv4.c.
"""
import datetime
import json
import sys
import types

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

for case in json.load(sys.stdin):
    fixed = datetime.datetime.strptime(case["when"], "%Y%m%dT%H%M%SZ")

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    botocore.auth.datetime = types.SimpleNamespace(datetime=FixedDatetime)
    creds = Credentials(case["ak"], case["sk"], case.get("token"))
    req = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode(),
                     headers=case["headers"])
    cls = S3SigV4Auth if case["service"] == "s3" else SigV4Auth
    cls(creds, case["service"], case["region"]).add_auth(req)
    print(req.headers["Authorization"])
