import DeployerModel
import Foundation
import Testing

@testable import CloudHTTP

/// The SigV4 signer against the known answers of the AWS documentation and test suite (as
/// recorded in the platform reference), and against botocore on seeded random requests.
@Suite struct SigV4Tests {
    static let suiteCredentials = SigV4Signer.Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let s3Credentials = SigV4Signer.Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    static func date(_ stamp: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: stamp)!
    }

    static func signature(_ headers: [(name: String, value: String)]) -> String {
        String(headers.first { $0.name == "Authorization" }?.value.split(separator: "=").last ?? "")
    }

    static func canonicalHash(_ signer: SigV4Signer, _ request: SigV4Signer.Request, at stamp: String) -> String {
        SigV4Signer.sha256Hex(Array(signer.canonicalRequest(request, adding: signer.addedHeaders(request, stamp: stamp)).0.utf8))
    }

    @Test func theSigningKeyDerivesAsDocumented() {
        let key = SigV4Signer.signingKey(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day: "20150830", region: "us-east-1", service: "iam")
        #expect(key.hexString == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    @Test func publishedVectorsAreReproduced() {
        let suite = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let vanilla = SigV4Signer.Request(method: "GET", host: "example.amazonaws.com", path: "/")
        #expect(Self.canonicalHash(suite, vanilla, at: "20150830T123600Z") == "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        let signed = suite.sign(vanilla, at: Self.date("20150830T123600Z"))
        #expect(Self.signature(signed) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(signed.last?.value.contains("SignedHeaders=host;x-amz-date,") == true)
        let post = SigV4Signer.Request(method: "POST", host: "example.amazonaws.com", path: "/")
        #expect(Self.signature(suite.sign(post, at: Self.date("20150830T123600Z"))) == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")

        let iam = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "iam")
        let listUsers = SigV4Signer.Request(
            method: "GET", host: "iam.amazonaws.com", path: "/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")])
        #expect(Self.canonicalHash(iam, listUsers, at: "20150830T123600Z") == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
        #expect(Self.signature(iam.sign(listUsers, at: Self.date("20150830T123600Z"))) == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func s3VectorsAreReproduced() {
        let s3 = SigV4Signer(credentials: Self.s3Credentials, region: "us-east-1", service: "s3")
        let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        let get = SigV4Signer.Request(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
            headers: [("Range", "bytes=0-9"), ("x-amz-content-sha256", emptyHash)])
        #expect(Self.canonicalHash(s3, get, at: "20130524T000000Z") == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(Self.signature(s3.sign(get, at: Self.date("20130524T000000Z"))) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let body = Array("Welcome to Amazon S3.".utf8)
        let put = SigV4Signer.Request(
            method: "PUT", host: "examplebucket.s3.amazonaws.com", path: "/test%24file.text",
            headers: [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ], payload: body)
        #expect(Self.signature(s3.sign(put, at: Self.date("20130524T000000Z"))) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func sageMakerVectorsAreReproduced() {
        let temporary = SigV4Signer.Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "SESSIONTOKENEXAMPLE")
        let control = SigV4Signer(credentials: temporary, region: "us-east-1", service: "sagemaker")
        let describe = SigV4Signer.Request(
            method: "POST", host: "api.sagemaker.us-east-1.amazonaws.com", path: "/",
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "SageMaker.DescribeEndpoint")],
            payload: Array(#"{"EndpointName":"my-endpoint"}"#.utf8))
        let signed = control.sign(describe, at: Self.date("20150830T123600Z"))
        #expect(Self.signature(signed) == "452904f03483d1caa22668b4ddbc59aa3903a4fe814aca384591bd1249a901b0")
        #expect(signed.contains { $0.name == "X-Amz-Security-Token" && $0.value == "SESSIONTOKENEXAMPLE" })
        #expect(signed.last?.value.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,") == true)
        let runtime = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "sagemaker")
        let invoke = SigV4Signer.Request(
            method: "POST", host: "runtime.sagemaker.us-east-1.amazonaws.com", path: "/endpoints/my-endpoint/invocations",
            headers: [("Content-Type", "application/json")], payload: Array(#"{"x":1}"#.utf8))
        #expect(Self.signature(runtime.sign(invoke, at: Self.date("20150830T123600Z"))) == "8eb9df63f993ed28fa0c5302988f44793a3e52e8d62414da905937ef1f039256")
        #expect(!"\(temporary)".contains("wJalr"), "credentials never print their secret")
    }

    @Test func botocoreAgreesOnRandomRequests() throws {
        let seed = UInt32.random(in: 1...UInt32.max)
        let vectors = try JSONValue.parse(Array(try CloudPeers.run("botocore_sigv4.py", [String(seed), "300"]).utf8)).arrayValue ?? []
        #expect(vectors.count == 300)
        var mismatches: [String] = []
        for vector in vectors {
            let credentials = SigV4Signer.Credentials(
                accessKeyID: vector["accessKey"]!.stringValue!, secretAccessKey: vector["secret"]!.stringValue!,
                sessionToken: vector["token"]?.stringValue)
            let signer = SigV4Signer(credentials: credentials, region: vector["region"]!.stringValue!, service: vector["service"]!.stringValue!)
            let pairs = { (key: String) in
                (vector[key]?.arrayValue ?? []).map { pair in
                    let items = pair.arrayValue ?? []
                    return (items.first?.stringValue ?? "", items.last?.stringValue ?? "")
                }
            }
            let request = SigV4Signer.Request(
                method: vector["method"]!.stringValue!, host: vector["host"]!.stringValue!, path: vector["path"]!.stringValue!,
                query: pairs("query"), headers: pairs("headers"), payload: Array(vector["payload"]!.stringValue!.utf8))
            let signed = signer.sign(request, at: Self.date(vector["timestamp"]!.stringValue!))
            if Self.signature(signed) != vector["signature"]?.stringValue {
                let added = signed.filter { $0.name != "Authorization" }
                mismatches.append("ours:\n\(signer.canonicalRequest(request, adding: added).0)\nbotocore:\n\(vector["canonicalRequest"]!.stringValue!)")
            }
        }
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.count) mismatches; first:\n\(mismatches.first ?? "")")
    }
}
