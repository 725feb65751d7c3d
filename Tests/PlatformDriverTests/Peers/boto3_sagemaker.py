"""Drives the project's SageMaker fake with the real boto3 client, to show the fake answers as
SageMaker does: signed calls accepted, shapes parsed by botocore, errors as ClientErrors with
SageMaker's codes, states moving over describe calls. Prints one JSON object of what it saw.
Usage: boto3_sagemaker.py URL ACCESS_KEY_ID SECRET"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, key, secret = sys.argv[1:4]
config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                request_checksum_calculation="when_required", response_checksum_validation="when_required")
session = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret, config=config)
sagemaker = boto3.client("sagemaker", **session)
runtime = boto3.client("sagemaker-runtime", **session)
s3 = boto3.client("s3", **session)
seen = {}


def code(call):
    try:
        call()
        return None
    except ClientError as error:
        return error.response["Error"]["Code"]


s3.put_object(Bucket="model-artifacts", Key="churn/v1/model.tar.gz", Body=b"artifact")
seen["object"] = s3.get_object(Bucket="model-artifacts", Key="churn/v1/model.tar.gz")["Body"].read().decode()
for version in ["v1", "v2"]:
    sagemaker.create_model(
        ModelName=f"churn-{version}", ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker-exec",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/apideployer:0.1.0",
                          "ModelDataUrl": "s3://model-artifacts/churn/v1/model.tar.gz", "Environment": {"APIDEPLOYER_VERSION": version}})
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"churn-{version}",
        ProductionVariants=[{"VariantName": f"churn-{version}", "ModelName": f"churn-{version}", "InstanceType": "ml.m5.large",
                             "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}])
seen["duplicateModel"] = code(lambda: sagemaker.create_model(
    ModelName="churn-v1", ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker-exec", PrimaryContainer={"Image": "i"}))
sagemaker.create_endpoint(EndpointName="churn", EndpointConfigName="churn-v1")
seen["creating"] = [sagemaker.describe_endpoint(EndpointName="churn")["EndpointStatus"] for _ in range(2)]
seen["modelEnvironment"] = sagemaker.describe_model(ModelName="churn-v1")["PrimaryContainer"]["Environment"]
answer = runtime.invoke_endpoint(EndpointName="churn", Body=b'{"features": {}}', ContentType="application/json")
seen["invocation"] = json.loads(answer["Body"].read())
seen["variant"] = answer["InvokedProductionVariant"]
sagemaker.update_endpoint(EndpointName="churn", EndpointConfigName="churn-v2")
seen["updating"] = [sagemaker.describe_endpoint(EndpointName="churn")["EndpointStatus"] for _ in range(2)]
seen["configAfterUpdate"] = sagemaker.describe_endpoint(EndpointName="churn")["EndpointConfigName"]
seen["unknownEndpoint"] = code(lambda: runtime.invoke_endpoint(EndpointName="nope", Body=b"{}", ContentType="application/json"))
sagemaker.delete_endpoint(EndpointName="churn")
seen["deleting"] = sagemaker.describe_endpoint(EndpointName="churn")["EndpointStatus"]
seen["gone"] = code(lambda: sagemaker.describe_endpoint(EndpointName="churn"))
forged = boto3.client("sagemaker", **{**session, "aws_secret_access_key": "not-the-secret"})
seen["forged"] = code(lambda: forged.list_endpoints())
print(json.dumps(seen))
