import Testing

@testable import ShiplogModel

/// `Event.canonicalJSON` is written directly for speed; the hash chain and every content
/// digest depend on it being byte for byte what `JSONValue.canonicalJSON()` makes of the
/// event, so the two are held equal here.
@Suite struct CanonicalEncodingTests {
    @Test func everyFieldEscapedAndSorted() {
        var e = Event(
            id: "a\"b\\c",
            type: .incidentOpened,
            service: "api\n",
            environment: "prod\u{01}",
            time: Timestamp(rfc3339: "2026-01-10T12:00:00.123Z")!
        )
        e.version = "1.2.3"
        e.artifact = "ghcr.io/x@sha256:00"
        e.commit = "c0ffee"
        e.commitTime = Timestamp(rfc3339: "2026-01-09T12:00:00Z")!
        e.changes = [Change(commit: "a1", time: Timestamp(rfc3339: "2026-01-08T00:00:00Z")!), Change(commit: "b\t2")]
        e.namespace = "ns"
        e.workload = "deploy/api"
        e.revision = "7"
        e.changeCause = "kubectl set image\r"
        e.incident = Incident(id: "INC-1", severity: "critical", title: "Ünïcode 日本 🚀", url: "https://x/1")
        e.actor = "ana"
        e.source = "ci"
        e.url = "https://ci/1"
        e.message = "line\u{08}\u{0C}\u{1F}\u{7F} end"
        e.hotfix = true
        e.annotations = ["b": "2", "B": "1", "a": "0", "é": "x", "changes": "y", "changeCause": "z", "": "empty"]
        #expect(e.canonicalJSON == e.jsonValue.canonicalJSON())
        #expect(
            e.canonicalJSON.hasPrefix(#"{"actor":"ana","annotations":{"":"empty","B":"1","a":"0","b":"2","changeCause":"z","changes":"y","é":"x"}"#)
        )
        #expect(e.canonicalJSON.contains(#""message":"line\b\f\u001f"#))
    }

    @Test func minimalEvent() {
        let e = Event(type: .changeMerged, service: "s")
        #expect(e.canonicalJSON == #"{"service":"s","type":"change.merged"}"#)
        #expect(e.canonicalJSON == e.jsonValue.canonicalJSON())
    }

    @Test func randomEventsMatchTheGeneralEncoder() {
        var rng = SplitMix64(seed: 42)
        let pieces = ["a", "Z", "0", "-", " ", "\"", "\\", "\n", "\u{00}", "\u{1B}", "\u{7F}", "é", "日本", "🚀", "time", "type"]
        func text() -> String { (0..<rng.next(upTo: 6)).map { _ in pieces[rng.next(upTo: pieces.count)] }.joined() }
        func maybe() -> String? { rng.next(upTo: 3) == 0 ? nil : text() }
        func when() -> Timestamp? {
            rng.next(upTo: 2) == 0
                ? nil : Timestamp(nanoseconds: Int64(rng.next(upTo: 1 << 30)) * 1_000_000_000 + Int64(rng.next(upTo: 1000)) * 1_000_000)
        }
        for _ in 0..<2_000 {
            var e = Event(
                id: maybe(),
                type: EventType.allCases[rng.next(upTo: EventType.allCases.count)],
                service: text(),
                environment: maybe(),
                time: when()
            )
            e.version = maybe()
            e.artifact = maybe()
            e.commit = maybe()
            e.commitTime = when()
            e.changes = (0..<rng.next(upTo: 3)).map { _ in Change(commit: text(), time: when()) }
            e.namespace = maybe()
            e.workload = maybe()
            e.revision = maybe()
            e.changeCause = maybe()
            if rng.next(upTo: 2) == 0 { e.incident = Incident(id: text(), severity: maybe(), title: maybe(), url: maybe()) }
            e.actor = maybe()
            e.source = maybe()
            e.url = maybe()
            e.message = maybe()
            e.hotfix = rng.next(upTo: 2) == 0
            for _ in 0..<rng.next(upTo: 4) { e.annotations[text()] = text() }
            #expect(e.canonicalJSON == e.jsonValue.canonicalJSON())
        }
    }
}

/// A small seeded generator, so a failure can be reproduced.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(upTo bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
