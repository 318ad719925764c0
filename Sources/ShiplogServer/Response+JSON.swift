import Hummingbird
import ShiplogAPI
import ShiplogModel

extension Response {
    /// A JSON response from one of the answer types.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: APIBodies.encode(value) + [0x0A]))
        )
    }
}

extension Response {
    /// A JSON response from a `JSONValue` (compact, keys in their given order).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let text = value.compactJSON() + "\n"
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}
