import PropertyBased
import Testing

@testable import ShiplogModel

/// parse ∘ encode of the canonical form is the identity, for generated events with awkward
/// text (quotes, backslashes, control characters, astral code points) in every free field.
@Suite struct CanonicalRoundTripProperties {
    static let awkward = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{7F}", "é", "ß", "€", "😀", "\u{2028}", "\u{FEFF}"]
    static let text = Gen.element(of: awkward).array(of: 0...12).map { $0.compactMap { $0 }.joined() }
    static let name = Gen.letterOrNumber.string(of: 1...20)

    @Test func theCanonicalFormParsesBackToTheSameEvent() async {
        await propertyCheck(
            count: 300,
            input: Self.name,
            Self.text,
            Self.text,
            Gen.int(in: 0...4_000_000_000)
        ) { service, message, annotation, seconds in
            var event = Event(
                type: .deploymentSucceeded,
                service: service,
                environment: "production",
                time: Timestamp(nanoseconds: Int64(seconds) * 1_000_000_000 + Int64(seconds % 1000)),
                version: "v" + service,
                message: message.isEmpty ? nil : message,
                annotations: annotation.isEmpty ? [:] : ["note": annotation]
            )
            event.actor = message.isEmpty ? nil : message
            let canonical = event.canonicalJSON
            let json = try JSONValue.parse(canonical)
            let parsed = try Event.validate(json, now: nil).get()
            #expect(parsed.canonicalJSON == canonical)
            #expect(parsed.message == event.message && parsed.annotations == event.annotations && parsed.time == event.time)
            #expect(try JSONValue.parse(json.compactJSON()).compactJSON() == json.compactJSON())
        }
    }
}
