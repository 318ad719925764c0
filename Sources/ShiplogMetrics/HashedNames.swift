import Crypto

/// A name (version, artifact digest, commit) as the projection keys it: the first 128 bits
/// of its SHA-256.
///
/// The figures need only a name's identity, never the text back, and a long log holds one
/// entry per artifact and commit: 16 bytes instead of a `String` (16 bytes plus a heap
/// allocation for a name of more than 15 bytes, as every `sha256:` digest is). It is a
/// cryptographic hash, not a short one (PRODUCT.md §3): finding a version whose key equals
/// another's is a second preimage of SHA-256's first 128 bits, so a crafted name cannot
/// borrow another's figures. `gate` compares the full strings anyway (`GateEvaluation`).
public struct NameKey: Hashable, Comparable, Sendable {
    public let high: UInt64
    public let low: UInt64

    public init(_ name: String) {
        var name = name
        let digest = name.withUTF8 { SHA256.hash(data: $0) }
        var high: UInt64 = 0
        var low: UInt64 = 0
        digest.withUnsafeBytes { bytes in
            for i in 0..<8 {
                high = high << 8 | UInt64(bytes[i])
                low = low << 8 | UInt64(bytes[8 + i])
            }
        }
        self.high = high
        self.low = low
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static func < (a: NameKey, b: NameKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// A time for each of a pair's artifacts, keyed by `NameKey`.
public struct TimesByName: Sendable, Equatable {
    private(set) var byKey: [NameKey: Int64] = [:]

    public subscript(key: NameKey) -> Int64? {
        get { byKey[key] }
        set { byKey[key] = newValue }
    }

    public var isEmpty: Bool { byKey.isEmpty }

    init(byKey: [NameKey: Int64] = [:]) { self.byKey = byKey }
}
