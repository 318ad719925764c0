/// A time for each of a pair's artifacts or versions, the names kept as `stableHash`.
///
/// The figures need only a name's identity, never the text back, and a pair holds one entry
/// per artifact it ever deployed: an 8-byte key instead of a `String` (16 bytes, and a heap
/// allocation for a name of more than 15 bytes, as every `sha256:` digest is) is a third of
/// these maps' memory on a long log (docs/benchmarks.md, *Start-up*).
public struct TimesByName: Sendable, Equatable {
    private(set) var byHash: [UInt64: Int64] = [:]

    public subscript(name: String) -> Int64? {
        get { byHash[stableHash(name)] }
        set { byHash[stableHash(name)] = newValue }
    }

    init(byHash: [UInt64: Int64] = [:]) { self.byHash = byHash }
}

/// A set of names (a pair's succeeded versions), kept as `stableHash` like `TimesByName`.
public struct NameSet: Sendable, Equatable {
    private(set) var hashes: Set<UInt64> = []

    public func contains(_ name: String) -> Bool { hashes.contains(stableHash(name)) }

    mutating func insert(_ name: String) { hashes.insert(stableHash(name)) }

    init(hashes: Set<UInt64> = []) { self.hashes = hashes }
}
