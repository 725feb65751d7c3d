import Hummingbird
import HTTPTypes
import NIOCore

/// Puts `KubeAPI` on Hummingbird: collects the body (refusing more than 3 MiB with 413),
/// maps headers, and streams watch bodies.
struct HTTPAdapter: HTTPResponder {
    typealias Context = BasicRequestContext
    let api: KubeAPI

    func respond(to request: Request, context: Context) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
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
