import Testing

@testable import ShiplogModel

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01t12:00:00z", "2024-05-01T12:00:00Z"),
        ("2024-05-01 12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("2024-05-01T07:30:00-04:30", "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00.500Z", "2024-05-01T12:00:00.5Z"),
        ("2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00.123456789Z"),
        ("2024-05-01T12:00:00.1234567891Z", "2024-05-01T12:00:00.123456789Z"),
        ("2024-02-29T00:00:00+01:00", "2024-02-28T23:00:00Z"),
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
    ])
    func parsesAndNormalizes(input: String, canonical: String) throws {
        let t = try #require(Timestamp(rfc3339: input))
        #expect(t.rfc3339 == canonical)
        #expect(Timestamp(rfc3339: canonical) == t)
    }

    @Test func theWholeRangeIsWrittenWithFourDigitYears() {
        #expect(Timestamp(nanoseconds: .min).rfc3339 == "1677-09-21T00:12:43.145224192Z")
        #expect(Timestamp(nanoseconds: .max).rfc3339 == "2262-04-11T23:47:16.854775807Z")
        #expect(Timestamp(nanoseconds: -1).rfc3339 == "1969-12-31T23:59:59.999999999Z")
        #expect(Timestamp(nanoseconds: 1_000_000_010).rfc3339 == "1970-01-01T00:00:01.00000001Z")
    }

    @Test func knownEpochValues() {
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:01Z")?.nanoseconds == 1_000_000_000)
        #expect(Timestamp(rfc3339: "2001-09-09T01:46:40Z")?.nanoseconds == Int64(1_000_000_000_000_000_000))
        #expect(Timestamp(rfc3339: "2024-05-01T12:00:00.25Z")?.nanoseconds == 1_714_564_800_250_000_000)
    }

    @Test(arguments: [
        "", "yesterday", "2024-05-01", "2024-05-01T12:00:00", "2024-05-01T12:00Z", "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:60Z", "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+2:00", "2024-05-01T12:00:00+0200",
        "1969-12-31T23:59:59Z", "2024-05-01T12:00:00Zjunk", "２０２４-05-01T12:00:00Z",
    ])
    func rejects(input: String) {
        #expect(Timestamp(rfc3339: input) == nil)
        if case .failure(let e) = Timestamp.parse(input) {
            #expect(e.text == input)
            #expect(!e.reason.isEmpty)
        } else {
            Issue.record("\(input) parsed")
        }
    }

    @Test func spans() {
        #expect(TimeSpan("90s")?.seconds == 90)
        #expect(TimeSpan("15m")?.seconds == 900)
        #expect(TimeSpan("12h")?.seconds == 43_200)
        #expect(TimeSpan("7d")?.seconds == 604_800)
        #expect(TimeSpan("2w")?.seconds == 1_209_600)
        #expect(TimeSpan("7") == nil)
        #expect(TimeSpan("d") == nil)
        #expect(TimeSpan("-1d") == nil)
        #expect(TimeSpan("7y") == nil)
        let now = Timestamp(rfc3339: "2024-05-08T00:00:00Z")!
        #expect(Timestamp.parseBound("7d", now: now) == Timestamp(rfc3339: "2024-05-01T00:00:00Z"))
        #expect(Timestamp.parseBound("2024-01-01T00:00:00Z", now: now) == Timestamp(rfc3339: "2024-01-01T00:00:00Z"))
        #expect(Timestamp.parseBound("last week", now: now) == nil)
    }
}
