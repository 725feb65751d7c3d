import DeployerModel
import Foundation
import HTTPTypes
import Hummingbird
import PlatformTesting
import Testing

@testable import CloudHTTP

/// Throttling and server failures are tried again after the server's Retry-After or a jittered
/// backoff; client errors are not; the last failure is reported after four attempts.
@Suite struct AWSClientRetryTests {
    /// Answers each request with the next scripted answer (status, headers, body).
    final class Script: @unchecked Sendable {
        private let lock = NSLock()
        private var answers: [(Int, [(String, String)], String)]
        private(set) var served = 0

        init(_ answers: [(Int, [(String, String)], String)]) { self.answers = answers }

        func next() -> (Int, [(String, String)], String) {
            lock.withLock {
                served += 1
                return answers.count > 1 ? answers.removeFirst() : answers[0]
            }
        }

        var count: Int { lock.withLock { served } }
    }

    final class Pauses: @unchecked Sendable {
        private let lock = NSLock()
        private var taken: [Duration] = []
        func record(_ duration: Duration) { lock.withLock { taken.append(duration) } }
        var all: [Duration] { lock.withLock { taken } }
    }

    static func run(_ script: Script, _ body: (AWSClient, Pauses) async throws -> Void) async throws {
        let router = Router()
        router.post("/") { _, _ -> Response in
            let (status, headers, text) = script.next()
            var fields = HTTPFields()
            for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let pauses = Pauses()
        try await FakeHTTPServer.with(responder: router.buildResponder()) { url in
            let client = AWSClient(
                credentials: .init(accessKeyID: "AKID", secretAccessKey: "secret"), region: "us-east-1", endpointOverride: url, http: .shared,
                pause: { pauses.record($0) })
            try await body(client, pauses)
        }
    }

    static let json = [("Content-Type", "application/x-amz-json-1.1")]

    @Test func throttlingAndServerFailuresAreTriedAgain() async throws {
        let script = Script([
            (400, Self.json + [("Retry-After", "2")], #"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
            (503, [], "<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error></ErrorResponse>"),
            (200, Self.json, #"{"EndpointStatus":"InService"}"#),
        ])
        try await Self.run(script) { client, pauses in
            let answer = try await client.json(service: "sagemaker", target: "SageMaker.DescribeEndpoint", ["EndpointName": "churn"])
            #expect(answer["EndpointStatus"] == "InService")
            #expect(script.count == 3)
            #expect(pauses.all.first == .seconds(2), "the server's Retry-After")
            #expect(pauses.all.count == 2 && pauses.all[1] >= .milliseconds(200) && pauses.all[1] <= .milliseconds(400), "then the backoff")
        }
    }

    @Test func clientErrorsAreNotRetriedAndTheLastFailureIsReported() async throws {
        let invalid = Script([(400, Self.json, #"{"__type":"com.amazon.coral.validate#ValidationException","message":"Could not find model \"m\"."}"#)])
        try await Self.run(invalid) { client, pauses in
            let error = await #expect(throws: AWSError.self) { _ = try await client.json(service: "sagemaker", target: "SageMaker.DescribeModel", [:]) }
            #expect(error?.code == "ValidationException" && invalid.count == 1 && pauses.all.isEmpty)
        }
        let failing = Script([(500, Self.json, #"{"__type":"InternalFailure","message":"oops"}"#)])
        try await Self.run(failing) { client, pauses in
            let error = await #expect(throws: AWSError.self) { _ = try await client.json(service: "sagemaker", target: "SageMaker.ListModels", [:]) }
            #expect(error?.code == "InternalFailure" && failing.count == AWSClient.attempts && pauses.all.count == AWSClient.attempts - 1)
        }
    }
}
