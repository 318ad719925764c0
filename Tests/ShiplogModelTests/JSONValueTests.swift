import Testing

@testable import ShiplogModel

@Suite struct JSONValueTests {
    @Test func parsesEveryKind() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude80"}} "#)
        #expect(v["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(v["b"]?["c"] == .string("d\né🚀"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "\"abc", "tru", "{\"a\":1}{}", "[1 2]",
        "{\"a\":1,\"a\":2}", "\"\\ud800\"", "\"\\x\"", "\"a\u{01}b\"", "nul",
    ])
    func rejectsInvalid(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsDuplicateKeysNamingThem() {
        do {
            _ = try JSONValue.parse(#"{"service":"a","service":"b"}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.reason == "duplicate key \"service\"")
        }
    }

    @Test func rejectsDuplicateKeysInLargeObjects() throws {
        let keys = (0..<40).map { #""k\#($0)":\#($0)"# }
        #expect(try JSONValue.parse("{" + keys.joined(separator: ",") + "}").objectMembers?.count == 40)
        for dup in [3, 20, 39] {
            let text = "{" + (keys + [#""k\#(dup)":0"#]).joined(separator: ",") + "}"
            #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        }
        let early = "{" + ([keys[0], keys[1], #""k1":2"#] + keys[2...]).joined(separator: ",") + "}"
        #expect(throws: JSONParseError.self) { try JSONValue.parse(early) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func canonicalFormSortsKeysAndEscapesMinimally() throws {
        let v = try JSONValue.parse(#"{"b": 1, "a": {"z": "x\"y\\z\u0001", "A": [ 1 , 2 ]}, "é": "/"}"#)
        #expect(v.canonicalJSON() == #"{"a":{"A":[1,2],"z":"x\"y\\z\u0001"},"b":1,"é":"/"}"#)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }
}
