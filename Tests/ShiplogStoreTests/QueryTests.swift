import ShiplogModel
import ShiplogTestSupport
import Testing

@testable import ShiplogStore

@Suite struct QueryTests {
    @Test func cursorTokensRoundTripAndRejectJunk() {
        let c = EventCursor(time: t0, sequence: 42)
        #expect(EventCursor(token: c.token) == c)
        #expect(EventCursor(token: "zz") == nil)
        #expect(EventCursor(token: "") == nil)
        #expect(EventCursor(token: "abc") == nil)
    }
}
