"""Runs moto's server on loopback with SigV4 checking switched on, for the Swift AWS client.
Before authentication starts it creates an IAM user allowed sagemaker:* and s3:*, and prints
one JSON line {"url", "accessKeyId", "secretAccessKey"}; it stops when its standard input closes."""
import json
import sys
import urllib.request

import boto3
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
url = f"http://{host}:{port}"
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="deployer")
iam.put_user_policy(UserName="deployer", PolicyName="deploy", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sagemaker:*", "s3:*"], "Resource": "*"}]}))
key = iam.create_access_key(UserName="deployer")["AccessKey"]
# From here on every request must carry a valid signature.
urllib.request.urlopen(urllib.request.Request(
    url + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})).read()
print(json.dumps({"url": url, "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}), flush=True)
sys.stdin.read()
server.stop()
