import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// Puts `KubeAPI` on Hummingbird: collects the body (refusing more than 3 MiB with 413),
/// maps headers, and streams watch bodies. Package uploads stream to a file instead.
struct HTTPAdapter: HTTPResponder {
    typealias Context = BasicRequestContext
    let api: KubeAPI
    let packages: PackageAPI?

    func respond(to request: Request, context: Context) async throws -> Response {
        if let packages, PackageAPI.handles(request.uri.path) {
            return makeResponse(await packageResponse(request, packages))
        }
        var headers: [String: String] = [:]
        // A repeated header is one comma-separated list (RFC 9110 §5.3), as Impersonate-Group.
        for field in request.headers { headers[field.name.canonicalName] = headers[field.name.canonicalName].map { $0 + "," + field.value } ?? field.value }
        var body: [UInt8] = []
        do {
            let buffer = try await request.body.collect(upTo: KubeAPI.maximumBodyBytes)
            body = Array(buffer.readableBytesView)
        } catch {
            return makeResponse(.error(.tooLarge(KubeAPI.maximumBodyBytes)))
        }
        let (path, query) = APIRequest.splitTarget(request.uri.description)
        let apiRequest = APIRequest(method: request.method.rawValue, path: path, query: query, headers: headers, body: body)
        return makeResponse(await api.handle(apiRequest))
    }

    private func packageResponse(_ request: Request, _ packages: PackageAPI) async -> APIResponse {
        let authorization = request.headers[.authorization]
        switch request.method {
        case .get:
            return await packages.read(path: request.uri.path, authorization: authorization)
        case .post where request.uri.path == PackageAPI.pathPrefix:
            if let refusal = await packages.refusal(authorization: authorization) { return refusal }
            let file = packages.temporaryFile()
            do {
                _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
                let handle = try FileHandle(forWritingTo: file)
                defer { try? handle.close() }
                var received = 0
                for try await chunk in request.body {
                    received += chunk.readableBytes
                    guard received <= PackageAPI.maximumArchiveBytes else {
                        try? FileManager.default.removeItem(at: file)
                        return .error(.tooLarge(PackageAPI.maximumArchiveBytes))
                    }
                    try handle.write(contentsOf: chunk.readableBytesView)
                }
                try handle.synchronize()
            } catch {
                try? FileManager.default.removeItem(at: file)
                return .error(.badRequest("the upload failed: \(error)"))
            }
            return packages.upload(file: file)
        default:
            return .error(.methodNotAllowed())
        }
    }

    private func makeResponse(_ response: APIResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        let status = HTTPResponse.Status(code: response.status)
        switch response.body {
        case .bytes(let bytes):
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let chunks):
            return Response(status: status, headers: fields, body: ResponseBody(asyncSequence: chunks.map { ByteBuffer(bytes: $0) }))
        }
    }
}
