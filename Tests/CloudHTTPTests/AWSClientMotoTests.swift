import AsyncHTTPClient
import DeployerModel
import Foundation
import Testing

@testable import CloudHTTP

/// The AWS client's signed calls against moto's server on loopback with signature checking on:
/// S3 objects and the SageMaker model, endpoint configuration and endpoint lifecycle; a wrong
/// secret is refused.
@Suite struct AWSClientMotoTests {
    @Test func s3AndSageMakerCallsAreAcceptedWithSignatureCheckingOn() async throws {
        try await MotoServer.with { moto in
            let client = moto.client()
            try await client.createBucket("models")
            let artifact = Array("model bytes \(UUID())".utf8)
            try await client.putObject(bucket: "models", key: "churn/v1/model.tar.gz", body: artifact)
            #expect(try await client.getObject(bucket: "models", key: "churn/v1/model.tar.gz") == artifact)
            let missing = await #expect(throws: AWSError.self) { _ = try await client.getObject(bucket: "models", key: "nope") }
            #expect(missing?.code == "NoSuchKey" && missing?.status == 404)

            let sagemaker = { (operation: String, body: JSONValue) in
                try await client.json(service: "sagemaker", target: "SageMaker.\(operation)", body)
            }
            _ = try await sagemaker("CreateModel", [
                "ModelName": "churn-v1", "ExecutionRoleArn": "arn:aws:iam::123456789012:role/deployer",
                "PrimaryContainer": ["Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-node:1", "ModelDataUrl": "s3://models/churn/v1/model.tar.gz"],
            ])
            #expect(try await sagemaker("DescribeModel", ["ModelName": "churn-v1"])["ModelName"] == "churn-v1")
            _ = try await sagemaker("CreateEndpointConfig", [
                "EndpointConfigName": "churn-v1",
                "ProductionVariants": [["VariantName": "v1", "ModelName": "churn-v1", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1, "InitialVariantWeight": 1]],
            ])
            _ = try await sagemaker("CreateEndpoint", ["EndpointName": "churn", "EndpointConfigName": "churn-v1"])
            #expect(try await sagemaker("DescribeEndpoint", ["EndpointName": "churn"])["EndpointStatus"] == "InService")
            _ = try await sagemaker("DeleteEndpoint", ["EndpointName": "churn"])
            _ = try await sagemaker("DeleteEndpointConfig", ["EndpointConfigName": "churn-v1"])
            _ = try await sagemaker("DeleteModel", ["ModelName": "churn-v1"])
            let gone = await #expect(throws: AWSError.self) { _ = try await sagemaker("DescribeModel", ["ModelName": "churn-v1"]) }
            #expect(gone?.code == "ValidationException" && gone?.isRetryable == false)

            let forged = moto.client(secret: "not-the-secret")
            let refused = await #expect(throws: AWSError.self) { _ = try await forged.json(service: "sagemaker", target: "SageMaker.ListModels", [:]) }
            #expect(refused?.code == "SignatureDoesNotMatch" && refused?.status == 403)
            #expect(refused?.description.contains(moto.secret) == false)
        }
    }
}

/// moto's server as a child process (`Peers/moto_server.py`): its URL and the credentials of the
/// user it created before switching authentication on. It stops when its input closes.
struct MotoServer {
    let url: String
    let accessKeyID: String
    let secret: String

    func client(secret: String? = nil) -> AWSClient {
        AWSClient(
            credentials: SigV4Signer.Credentials(accessKeyID: accessKeyID, secretAccessKey: secret ?? self.secret), region: "us-east-1",
            endpointOverride: url, http: .shared)
    }

    static func with(_ body: (MotoServer) async throws -> Void) async throws {
        let python = try CloudPeers.output(
            "/usr/bin/env", ["bash", CloudPeers.repository.appendingPathComponent("hack/python-env.sh").path,
                CloudPeers.repository.appendingPathComponent("hack/requirements-cloud.txt").path]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/moto_server.py").path]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        let line = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while let chunk = try? output.fileHandleForReading.read(upToCount: 1), let byte = chunk.first, byte != UInt8(ascii: "\n") { bytes.append(byte) }
                continuation.resume(returning: bytes)
            }
        }
        let started = try JSONValue.parse(line)
        guard let url = started["url"]?.stringValue, let key = started["accessKeyId"]?.stringValue, let secret = started["secretAccessKey"]?.stringValue
        else { throw PeerFailure("moto did not start: \(String(decoding: line, as: UTF8.self))") }
        try await body(MotoServer(url: url, accessKeyID: key, secret: secret))
    }
}
