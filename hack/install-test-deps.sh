#!/usr/bin/env bash
# Installs (or checks) what the tests need. Idempotent: safe to run again and again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.env"

command -v swift >/dev/null || { echo "swift is not on PATH (the machine image provides /opt/swift)"; exit 1; }

# The real kubectl is a test peer. It comes with the machine image (Google Cloud SDK packaging,
# a version dispatcher that bundles kubectl 1.27-1.33); Debian has no package for it.
if ! command -v kubectl >/dev/null; then
  echo "kubectl is missing: the integration tests drive the real kubectl 1.$KUBECTL_MINOR"
  exit 1
fi
kubectl version --client >/dev/null 2>&1 || { echo "kubectl does not run"; exit 1; }
# Python test peers (scikit-learn, skl2onnx, onnxmltools, onnxruntime, XGBoost, LightGBM), pinned
# in hack/requirements-test.txt, in a virtual environment reused while the pins do not change.
python=$(bash "$here/python-env.sh")
"$python" -c "import sklearn, skl2onnx, onnxmltools, onnxruntime, xgboost, lightgbm" || { echo "Python test peers do not import"; exit 1; }

# Cloud-platform peers (botocore, boto3, cryptography, moto), in their own small environment (hack/requirements-cloud.txt).
cloud_python=$(bash "$here/python-env.sh" "$here/requirements-cloud.txt")
"$cloud_python" -c "import botocore.auth, boto3, cryptography, moto.server" || { echo "the cloud peers (botocore, boto3, cryptography, moto) do not import"; exit 1; }

# kubernetes-validate checks the manifests and the chart's CRDs offline (hack/requirements-kubernetes.txt).
kubernetes_python=$(bash "$here/python-env.sh" "$here/requirements-kubernetes.txt")
"$kubernetes_python" -c "import kubernetes_validate" || { echo "kubernetes-validate does not import"; exit 1; }

# A PostgreSQL server on loopback for the SQL query endpoint tests (started if not running).
port=$(bash "$here/postgres.sh")
echo "PostgreSQL for the tests on 127.0.0.1:$port"

echo "test dependencies present: $(swift --version 2>/dev/null | head -1); kubectl $(kubectl version --client 2>/dev/null | head -1)"
