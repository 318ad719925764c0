import Crypto
import ShiplogModel

/// The hash chain every backend keeps: how a row's hash is computed, and the walk that
/// checks a log row by row (`verify`).
package enum HashChain {
    /// How a row's hash is computed (`chain` column): 1 covers the canonical event; 2, every
    /// row since this version, also covers the receive time, format, content digest and raw body.
    package static let current = 2

    /// What a chain-2 hash covers besides the canonical event: every other stored column.
    package struct Envelope {
        package var receivedNs: Int64
        package var format: String
        package var contentDigest: String
        package var raw: [UInt8]

        package init(receivedNs: Int64, format: String, contentDigest: String, raw: [UInt8]) {
            self.receivedNs = receivedNs
            self.format = format
            self.contentDigest = contentDigest
            self.raw = raw
        }

        package init(_ event: PreparedEvent) {
            self.init(receivedNs: event.receivedAt.nanoseconds, format: event.format.rawValue, contentDigest: event.contentDigest, raw: event.raw)
        }
    }

    /// Chain 1: `SHA-256(previous hash ‖ canonical event)`. Chain 2: `SHA-256(previous hash ‖
    /// canonical event ‖ 0x00 ‖ "received_ns=…\nformat=…\ncontent_digest=…\nraw_sha256=" ‖
    /// SHA-256(raw))`. The first row's previous hash is empty.
    package static func hash(previous: [UInt8], canonical: String, envelope: Envelope?) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        var text = canonical
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if let envelope {
            hasher.update(data: [0])
            var fields = "received_ns=\(envelope.receivedNs)\nformat=\(envelope.format)\ncontent_digest=\(envelope.contentDigest)\nraw_sha256="
            fields.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            hasher.update(data: Array(SHA256.hash(data: envelope.raw)))
        }
        return Array(hasher.finalize())
    }

    /// Every stored column of one row, as a verifier reads it.
    package struct Row {
        package var sequence: Int64
        package var eventID: String
        package var type: String
        package var service: String
        package var environment: String?
        package var timeNs: Int64
        package var canonical: String
        package var hash: [UInt8]
        package var chain: Int
        package var receivedNs: Int64
        package var format: String
        package var contentDigest: String
        package var raw: [UInt8]

        package init(
            sequence: Int64,
            eventID: String,
            type: String,
            service: String,
            environment: String?,
            timeNs: Int64,
            canonical: String,
            hash: [UInt8],
            chain: Int,
            receivedNs: Int64,
            format: String,
            contentDigest: String,
            raw: [UInt8]
        ) {
            self.sequence = sequence
            self.eventID = eventID
            self.type = type
            self.service = service
            self.environment = environment
            self.timeNs = timeNs
            self.canonical = canonical
            self.hash = hash
            self.chain = chain
            self.receivedNs = receivedNs
            self.format = format
            self.contentDigest = contentDigest
            self.raw = raw
        }
    }

    /// Checks rows in sequence order, from row 1: each must follow the one before, hash onto
    /// it, and hold a valid canonical event that its indexed columns agree with.
    package struct Walk {
        package private(set) var previous: [UInt8] = []
        package private(set) var expected: Int64 = 1
        private var chainSeen = 1

        package init() {}

        /// Why `row` breaks the chain, or nil when it verifies (and the walk moves past it).
        package mutating func check(_ row: Row) -> String? {
            if row.sequence != expected {
                return "expected sequence \(expected) here: rows \(expected)…\(row.sequence - 1) are missing"
            }
            guard row.chain == 1 || row.chain == 2 else { return "unknown chain version \(row.chain)" }
            if row.chain < chainSeen {
                return "chain version \(row.chain) after rows of version \(chainSeen): the row was rewritten to escape the newer hash"
            }
            chainSeen = row.chain
            let envelope =
                row.chain == 2
                ? Envelope(receivedNs: row.receivedNs, format: row.format, contentDigest: row.contentDigest, raw: row.raw) : nil
            let hash = HashChain.hash(previous: previous, canonical: row.canonical, envelope: envelope)
            if row.hash != hash {
                return row.chain == 2
                    ? "hash does not match SHA-256(previous hash ‖ event ‖ receive time, format, digest, raw body): the row or one before it was changed"
                    : "hash does not match SHA-256(previous hash ‖ event): the row or one before it was changed"
            }
            if row.chain == 1, SourceFormat(rawValue: row.format) == nil {
                return "the format column holds no known format"
            }
            guard let json = try? JSONValue.parse(row.canonical), case .success(let event) = Event.validate(json, now: nil) else {
                return "the stored event is not a valid event"
            }
            if event.canonicalJSON != row.canonical {
                return "the stored event is not in canonical form"
            }
            if event.id != row.eventID || event.type.rawValue != row.type || event.service != row.service
                || event.environment != row.environment || event.time?.nanoseconds != row.timeNs
            {
                return "the indexed columns (id, type, service, environment, time) disagree with the hashed event"
            }
            previous = hash
            expected += 1
            return nil
        }
    }
}

extension VerifyReport {
    /// Checks a chain that verified against a head recorded elsewhere: a prefix of a chain
    /// is a valid chain, so only a pinned head reveals a cut tail. `stored` is the log's hash
    /// of row `head.sequence` (nil when there is no such row).
    package mutating func check(pinned head: (sequence: Int64, hash: String), stored: String?) {
        guard isIntact else { return }
        if stored == nil {
            brokenSequence = head.sequence
            brokenReason = "the pinned head is row \(head.sequence), but the log ends at row \(rowsChecked): rows were cut from its end"
        } else if stored != head.hash.lowercased() {
            brokenSequence = head.sequence
            brokenReason = "row \(head.sequence) has hash \(stored!), not the pinned \(head.hash): the log was rewritten up to there"
        }
    }
}
