# The single image: the controller (`apideployer controller --kubernetes`), the API node
# (`apideployer node serve`, also as a managed platform's container: `serve` is what SageMaker
# passes) and the other roles, from one binary. Python for Python endpoints' workers.
# Not built in this repository's CI (no Docker engine here); see docs/kubernetes.md.
FROM swift:6.1-noble AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends zlib1g-dev && rm -rf /var/lib/apt/lists/*
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
COPY Benchmarks Benchmarks
COPY python python
RUN swift build -c release --product apideployer --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/apideployer" /out/apideployer

FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv zlib1g libcurl4 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 65532 --user-group --home-dir /var/lib/apideployer --create-home apideployer
COPY --from=build /out/apideployer /usr/local/bin/apideployer
COPY hack/container-entrypoint.sh /usr/local/bin/container-entrypoint
USER 65532:65532
WORKDIR /var/lib/apideployer
ENTRYPOINT ["/usr/local/bin/container-entrypoint"]
