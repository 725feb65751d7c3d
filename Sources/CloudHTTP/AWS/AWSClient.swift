import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore
import NIOHTTP1

/// An AWS error answer: its code (`ValidationException`, `SignatureDoesNotMatch`, `NoSuchKey`…),
/// message and HTTP status. Never holds credentials.
public struct AWSError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let code: String
    public let message: String

    /// Throttling and server-side failures, worth another try after a pause.
    public var isRetryable: Bool {
        status >= 500 || status == 429 || ["ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable"].contains(code)
    }

    public var description: String { "\(code) (HTTP \(status)): \(message)" }
}

/// Calls AWS APIs signed with SigV4: the JSON 1.1 protocol (SageMaker control plane, ECR) and
/// S3 objects (path-style). `endpointOverride` points every call at one base URL (moto, a fake).
/// Throttling and server failures are tried again (each attempt signed afresh): after the
/// answer's `Retry-After` when it gives one (at most 20 s), else after a jittered backoff that
/// doubles from 200 ms up to 5 s.
public struct AWSClient: Sendable {
    public let credentials: SigV4Signer.Credentials
    public let region: String
    let endpointOverride: String?
    let http: HTTPClient
    let now: @Sendable () -> Date
    let pause: @Sendable (Duration) async throws -> Void
    /// Attempts of one call, the first included.
    static let attempts = 4

    public init(
        credentials: SigV4Signer.Credentials, region: String, endpointOverride: String? = nil, http: HTTPClient,
        now: @escaping @Sendable () -> Date = Date.init, pause: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.credentials = credentials
        self.region = region
        self.endpointOverride = endpointOverride.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.http = http
        self.now = now
        self.pause = pause
    }

    /// A JSON 1.1 operation, e.g. `json(service: "sagemaker", target: "SageMaker.CreateModel", …)`;
    /// the answer's JSON, or the service's error.
    public func json(service: String, target: String, _ body: JSONValue, host: String? = nil) async throws -> JSONValue {
        let base = endpointOverride ?? "https://\(host ?? "api.\(service).\(region).amazonaws.com")"
        let answer = try await send(
            service: service, method: .POST, base: base, path: "/",
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target)], body: body.serialized())
        return answer.isEmpty ? [:] : try JSONValue.parse(answer)
    }

    /// A REST call (SageMaker Runtime's invocations, for one): the answer's bytes, or the
    /// service's error. `host` names the real endpoint when no override is set.
    public func rest(service: String, host: String, method: HTTPMethod = .POST, path: String, headers: [(name: String, value: String)] = [], body: [UInt8])
        async throws -> [UInt8]
    {
        try await send(service: service, method: method, base: endpointOverride ?? "https://\(host)", path: path, headers: headers, body: body)
    }

    /// `PUT /{bucket}/{key}` with the payload signed.
    public func putObject(bucket: String, key: String, body: [UInt8]) async throws {
        _ = try await send(service: "s3", method: .PUT, base: s3Base, path: Self.objectPath(bucket, key), headers: [], body: body)
    }

    /// Deletes an object (S3 answers 204 whether or not it existed).
    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await send(service: "s3", method: .DELETE, base: s3Base, path: Self.objectPath(bucket, key), headers: [], body: [])
    }

    /// The object's bytes.
    public func getObject(bucket: String, key: String) async throws -> [UInt8] {
        try await send(service: "s3", method: .GET, base: s3Base, path: Self.objectPath(bucket, key), headers: [], body: [])
    }

    /// Creates a bucket in the client's region (us-east-1 takes no location constraint).
    public func createBucket(_ bucket: String) async throws {
        let configuration =
            region == "us-east-1"
            ? [UInt8]()
            : Array(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
        _ = try await send(service: "s3", method: .PUT, base: s3Base, path: "/" + PercentEncoding.unreserved(bucket), headers: [], body: configuration)
    }

    private var s3Base: String { endpointOverride ?? "https://s3.\(region).amazonaws.com" }

    static func objectPath(_ bucket: String, _ key: String) -> String {
        "/" + PercentEncoding.unreserved(bucket) + "/" + key.split(separator: "/", omittingEmptySubsequences: false).map { PercentEncoding.unreserved(String($0)) }.joined(separator: "/")
    }

    private func send(
        service: String, method: HTTPMethod, base: String, path: String, headers: [(name: String, value: String)], body: [UInt8]
    ) async throws -> [UInt8] {
        var attempt = 1
        while true {
            do {
                return try await sendOnce(service: service, method: method, base: base, path: path, headers: headers, body: body)
            } catch let failure as RetryableFailure {
                guard attempt < Self.attempts else { throw failure.error }
                try await pause(failure.retryAfter ?? Self.backoff(attempt: attempt))
                attempt += 1
            }
        }
    }

    /// Full jitter over 200 ms × 2^(attempt-1), capped at 5 s.
    static func backoff(attempt: Int) -> Duration {
        let ceiling = min(5_000, 200 << (attempt - 1))
        return .milliseconds(Int.random(in: ceiling / 2...ceiling))
    }

    /// A failure worth another attempt, and the pause the server asked for.
    struct RetryableFailure: Error {
        let error: any Error
        let retryAfter: Duration?
    }

    private func sendOnce(
        service: String, method: HTTPMethod, base: String, path: String, headers: [(name: String, value: String)], body: [UInt8]
    ) async throws -> [UInt8] {
        guard let url = URL(string: base), let host = url.host else { throw AWSError(status: 0, code: "InvalidEndpoint", message: base) }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        let signer = SigV4Signer(credentials: credentials, region: region, service: service)
        let signed = signer.sign(SigV4Signer.Request(method: method.rawValue, host: authority, path: path, headers: headers, payload: body), at: now())
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        // The client sends `Host` as `host[:port]` from the URL: what was signed.
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        let bytes: [UInt8]
        do {
            response = try await http.execute(request, timeout: .seconds(60))
            bytes = Array(try await response.body.collect(upTo: 64 * 1024 * 1024).readableBytesView)
        } catch {
            throw RetryableFailure(error: AWSError(status: 0, code: "ConnectionFailed", message: "\(error)"), retryAfter: nil)
        }
        guard (200..<300).contains(response.status.code) else {
            let error = Self.error(status: Int(response.status.code), bytes)
            guard error.isRetryable else { throw error }
            let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds(min(20, max(0, $0))) }
            throw RetryableFailure(error: error, retryAfter: retryAfter)
        }
        return bytes
    }

    /// The error of a JSON (`__type`, `message`) or XML (`<Code>`, `<Message>`) answer.
    static func error(status: Int, _ bytes: [UInt8]) -> AWSError {
        if let json = try? JSONValue.parse(bytes), let type = json["__type"]?.stringValue {
            let code = type.split(separator: "#").last.map(String.init) ?? type
            return AWSError(status: status, code: code, message: json["message"]?.stringValue ?? json["Message"]?.stringValue ?? "")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex) else { return nil }
            return String(text[start.upperBound..<end.lowerBound])
        }
        return AWSError(status: status, code: element("Code") ?? "HTTP\(status)", message: element("Message") ?? String(text.prefix(200)))
    }
}
