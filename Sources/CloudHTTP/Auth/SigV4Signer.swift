import Crypto
import DeployerModel
import Foundation

/// AWS Signature Version 4 (HMAC-SHA256) as a pure value: the time is an argument, so the
/// published test vectors and botocore's answers are reproduced exactly. S3 differs from the
/// JSON services in two ways: its path is encoded once and not normalised, and it sends the
/// payload hash as `x-amz-content-sha256`.
public struct SigV4Signer: Sendable {
    /// Long-term or temporary credentials; their description never shows the secret.
    public struct Credentials: Sendable, CustomStringConvertible {
        public let accessKeyID: String
        let secretAccessKey: String
        let sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        public var description: String { "AWS credentials \(accessKeyID) (secret redacted)" }
    }

    /// What is signed: the request as it will be sent.
    public struct Request: Sendable {
        public var method: String
        /// `host[:port]` exactly as sent.
        public var host: String
        /// The path as sent (percent-encoded).
        public var path: String
        /// Query parameters, not encoded.
        public var query: [(name: String, value: String)]
        /// Headers to sign besides host and the `x-amz-*` ones the signer adds.
        public var headers: [(name: String, value: String)]
        public var payload: [UInt8]

        public init(
            method: String, host: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
            payload: [UInt8] = []
        ) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payload = payload
        }
    }

    public let credentials: Credentials
    public let region: String
    public let service: String

    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token` for temporary
    /// credentials, `X-Amz-Content-SHA256` for S3, and `Authorization`.
    public func sign(_ request: Request, at date: Date) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(date)
        let added = addedHeaders(request, stamp: stamp)
        let (canonical, signedHeaders) = canonicalRequest(request, adding: added)
        let scope = "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, Self.sha256Hex(Array(canonical.utf8))].joined(separator: "\n")
        let key = Self.signingKey(secret: credentials.secretAccessKey, day: String(stamp.prefix(8)), region: region, service: service)
        let signature = Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: key))).hexString
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    /// The canonical request (step 1) and its signed-header list.
    func canonicalRequest(_ request: Request, adding added: [(name: String, value: String)]) -> (String, String) {
        var headers: [String: [String]] = [:]
        for (name, value) in [("host", request.host)] + request.headers + added {
            headers[name.lowercased(), default: []].append(value.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let query = request.query.map { (PercentEncoding.unreserved($0.name), PercentEncoding.unreserved($0.value)) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        let lines = [
            request.method.uppercased(), canonicalPath(request.path), query.map { "\($0.0)=\($0.1)" }.joined(separator: "&"),
            canonicalHeaders, signedHeaders, payloadHash(request),
        ]
        return (lines.joined(separator: "\n"), signedHeaders)
    }

    /// The `x-amz-*` headers the signer adds to `request`.
    func addedHeaders(_ request: Request, stamp: String) -> [(name: String, value: String)] {
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        if service == "s3", !request.headers.contains(where: { $0.name.lowercased() == "x-amz-content-sha256" }) {
            added.append(("X-Amz-Content-SHA256", Self.sha256Hex(request.payload)))
        }
        return added
    }

    /// S3 signs the hash it was sent (which may be `UNSIGNED-PAYLOAD`); the others the body's.
    private func payloadHash(_ request: Request) -> String {
        if service == "s3", let declared = request.headers.first(where: { $0.name.lowercased() == "x-amz-content-sha256" }) {
            return declared.value
        }
        return Self.sha256Hex(request.payload)
    }

    /// S3: the path as sent (encoded once, object keys kept whole). Others: normalised, then the
    /// encoded path encoded again.
    func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        if service == "s3" { return path }
        var segments: [Substring] = []
        for segment in path.split(separator: "/") {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + segments.map { PercentEncoding.unreserved(String($0)) }.joined(separator: "/") + trailing
    }

    /// Lower-case hex SHA-256.
    static func sha256Hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).hexString }

    /// `kSigning`: HMAC chained over the day, region, service and `aws4_request`.
    static func signingKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Array(("AWS4" + secret).utf8)
        for part in [day, region, service, "aws4_request"] {
            key = Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: SymmetricKey(data: key)))
        }
        return key
    }

    /// The time of an `X-Amz-Date` value (what a server checking signatures needs); nil when
    /// it is not `YYYYMMDD'T'HHMMSS'Z'`.
    public static func date(fromTimestamp stamp: String) -> Date? {
        guard stamp.count == 16, let match = stamp.wholeMatch(of: /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(
            year: Int(match.1), month: Int(match.2), day: Int(match.3), hour: Int(match.4), minute: Int(match.5), second: Int(match.6)))
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0,
            parts.second ?? 0)
    }
}
