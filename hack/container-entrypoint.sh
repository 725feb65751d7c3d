#!/bin/sh
# The image's entrypoint. Managed platforms start the container with their own argument
# (SageMaker: `serve`) or none: the node then serves the platform the environment names.
# Anything else is an apideployer command line (`controller --kubernetes`, `node serve …`).
set -eu
platform="${APIDEPLOYER_PLATFORM:-}"
if [ -z "$platform" ] && [ -n "${AIP_STORAGE_URI:-}" ]; then platform=vertexai; fi
if [ -z "$platform" ] && [ "${1:-}" = "serve" ] && [ -d /opt/ml/model ]; then platform=sagemaker; fi
if [ -n "$platform" ] && { [ $# -eq 0 ] || [ "$1" = "serve" ]; }; then
  exec apideployer node serve --data-dir /tmp/apinode --host 0.0.0.0 --platform "$platform"
fi
exec apideployer "$@"
