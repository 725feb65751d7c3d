#!/usr/bin/env bash
# Regenerates Sources/ModelRuntime/ONNX/onnx-ml.pb.swift from proto/onnx-ml.proto (taken from the
# onnx 1.17.0 wheel). Run by hand when the proto changes; the output is committed so that builds
# need neither protoc nor the plugin. Needs: apt-get install protobuf-compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q https://github.com/apple/swift-protobuf.git "$work/swift-protobuf"
git -C "$work/swift-protobuf" checkout -q 1.39.0
swift build -c release --package-path "$work/swift-protobuf" --product protoc-gen-swift
protoc --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_out=Sources/ModelRuntime/ONNX --swift_opt=Visibility=Internal -I proto proto/onnx-ml.proto
