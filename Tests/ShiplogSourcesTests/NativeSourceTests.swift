import ShiplogModel
import Testing

@testable import ShiplogSources

@Suite struct NativeSourceTests {
    let now = Timestamp(rfc3339: "2026-01-10T12:00:00Z")!
    let a = #"{"type":"deployment.started","service":"a","environment":"dev","id":"1"}"#
    let b = #"{"type": "deployment.failed", "service": "a", "environment": "dev", "id": "2", "message": "x ] , { \" y"}"#

    func decode(_ text: String, _ framing: NativeSource.Framing = .json) -> Result<[PreparedEvent], SourceError> {
        NativeSource.decode(Array(text.utf8), framing: framing, receivedAt: now).map(\.events)
    }

    @Test func singleObject() throws {
        let events = try decode(a).get()
        #expect(events.map(\.id) == ["1"])
        #expect(events[0].raw == Array(a.utf8))
        #expect(events[0].format == .native)
    }

    @Test func arrayKeepsEachElementsRawBytes() throws {
        let events = try decode("[ \(a) ,\n \(b) ]").get()
        #expect(events.map(\.id) == ["1", "2"])
        #expect(String(decoding: events[1].raw, as: UTF8.self) == b)
        #expect(events[1].event.message == "x ] , { \" y")
    }

    @Test func ndjsonSkipsBlankLines() throws {
        let events = try decode("\(a)\n\n  \n\(b)\r\n", .ndjson).get()
        #expect(events.map(\.id) == ["1", "2"])
    }

    @Test func oneBadEventFailsTheBatchNamingEachIndex() {
        guard case .failure(let e) = decode("[\(a), {\"type\": \"x\", \"service\": \"a\", \"environment\": \"dev\"}, \(b), 7]") else {
            Issue.record("accepted")
            return
        }
        #expect(e.message == "2 of 4 events are invalid; nothing was written")
        #expect(e.events.map(\.index) == [1, 3])
        #expect(e.events[0].errors.map(\.field) == ["type"])
        #expect(e.events[1].errors[0].message == "an event must be a JSON object, not a number")
    }

    @Test func malformedBodies() {
        for (body, expected) in [
            ("", "the body is empty"), ("[]", "the body holds no events"), ("[1,]", "trailing comma"),
            ("[1", "unterminated array"), ("[1] x", "unexpected data"), ("\(a)\n\(b)", "send an array, or NDJSON"),
            ("[,1]", "empty array element"),
        ] {
            guard case .failure(let e) = decode(body) else {
                Issue.record("\(body) accepted")
                continue
            }
            #expect(e.description.contains(expected), "\(body): \(e)")
        }
        guard case .failure(let e) = decode("\(a)\n{oops\n", .ndjson) else {
            Issue.record("accepted")
            return
        }
        #expect(e.events.map(\.index) == [1])
    }
}
