"""Prints SigV4 vectors made by botocore (the real AWS client) for requests drawn from a seeded
random generator: the inputs as sent and the signature botocore computes. The Swift signer must
reproduce every one. Usage: botocore_sigv4.py SEED COUNT"""
import json
import random
import sys
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

seed, count = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
alphabet = "abcXYZ019-_.~ !$&'()*+,;=:@%/éሴ"


def text(low, high, letters=alphabet):
    return "".join(rng.choice(letters) for _ in range(rng.randint(low, high)))


vectors = []
for index in range(count):
    service = rng.choice(["s3", "sagemaker", "service", "iam"])
    raw_path = "/" + "/".join(text(1, 8).replace("/", "") or "x" for _ in range(rng.randint(0, 3)))
    if service != "s3" and rng.random() < 0.3:
        raw_path += rng.choice(["/./x", "/../y", "//z", "/"])
    path = quote(raw_path, safe="/~")
    host = rng.choice(["example.amazonaws.com", "127.0.0.1:" + str(rng.randint(1024, 65535))])
    query = [(text(1, 6), text(0, 6)) for _ in range(rng.randint(0, 3))]
    headers = [("X-Custom-" + str(i), "  " + text(1, 10, "abc XYZ019-_.~!$&()*+,;=:@") + "   tail ") for i in range(rng.randint(0, 2))]
    if rng.random() < 0.5:
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
    payload = text(0, 40).encode("utf-8")
    token = "TOKEN" + str(index) if rng.random() < 0.4 else None
    timestamp = "2026%02d%02dT%02d%02d%02dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    credentials = Credentials("AKID" + str(index), "secret/" + text(10, 20), token)
    region = rng.choice(["us-east-1", "eu-west-3"])
    auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(credentials, service, region)
    # Plain http: botocore then always signs the payload (S3 included).
    request = AWSRequest(method=rng.choice(["GET", "POST", "PUT"]), url="http://" + host + path,
                         data=payload, headers=dict(headers), params=dict(query))
    request.headers["Host"] = host
    request.context["timestamp"] = timestamp
    auth._modify_request_before_signing(request)  # adds X-Amz-Date, the token, S3's payload hash
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    vectors.append({
        "service": service, "region": region, "method": request.method, "host": host, "path": path,
        "query": [[k, v] for k, v in dict(query).items()], "headers": headers,
        "payload": payload.decode("utf-8"), "accessKey": credentials.access_key, "secret": credentials.secret_key,
        "token": token, "timestamp": timestamp, "canonicalRequest": canonical, "signature": signature,
    })
print(json.dumps(vectors))
