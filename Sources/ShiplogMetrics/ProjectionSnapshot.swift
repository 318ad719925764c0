import ShiplogModel

/// A projection saved as bytes, so that a start-up applies only the events after it instead
/// of re-deriving everything from the log's JSON. A snapshot is a cache: the log stays the
/// truth, and a snapshot that does not fit (another format version, another pipeline, a log
/// whose row at its sequence has another hash) is ignored.
///
/// Adding a stored property to `PairState` or `Projection`: encode it here and bump
/// `formatVersion` (the snapshot tests compare a restored projection with a replayed one).
public enum ProjectionSnapshot {
    /// Changes whenever the encoding or the meaning of a stored figure changes.
    public static let formatVersion = 5

    /// What the store files the snapshot under: a snapshot of another kind is never read.
    public static func kind(for pipeline: Pipeline) -> String {
        kindPrefix + pipeline.environments.joined(separator: ",")
    }

    /// What every kind of this format starts with; the pipeline follows.
    public static let kindPrefix = "projection-v\(formatVersion) "


    static let magic: [UInt8] = Array("SHIPLOG-PROJECTION".utf8)

    /// Why saved bytes could not be read back.
    public enum DecodingError: Error, Sendable, CustomStringConvertible {
        case notASnapshot
        case otherVersion(Int)
        case otherPipeline([String])
        case truncated

        public var description: String {
            switch self {
            case .notASnapshot: "not a projection snapshot"
            case .otherVersion(let v): "snapshot format \(v), this shiplog reads \(ProjectionSnapshot.formatVersion)"
            case .otherPipeline(let envs): "snapshot taken with the pipeline \(envs.joined(separator: ","))"
            case .truncated: "the snapshot is truncated"
            }
        }
    }
}

extension Projection {
    /// The projection's state as bytes (see `ProjectionSnapshot`). Deterministic: the same
    /// state always gives the same bytes.
    public func snapshotBytes() -> [UInt8] {
        var w = SnapshotWriter()
        w.bytes(ProjectionSnapshot.magic)
        w.int(ProjectionSnapshot.formatVersion)
        w.strings(pipeline.environments)
        w.int(lastSequence)
        w.int(recomputations)
        let keys = sortedKeys
        w.int(keys.count)
        for key in keys { pairs[key]!.encode(into: &w) }
        w.int(knowledge.count)
        for service in knowledge.keys.sorted() {
            w.string(service)
            knowledge[service]!.encode(into: &w)
        }
        return w.output
    }

    /// Restores a projection from `snapshotBytes()`; fails unless it was taken with `pipeline`.
    public init(snapshot bytes: [UInt8], pipeline: Pipeline) throws {
        self = try bytes.withUnsafeBytes { try Projection(snapshot: $0, pipeline: pipeline) }
    }

    /// Restores a projection from `snapshotBytes()` held in any memory (a mapped file, say).
    public init(snapshot bytes: UnsafeRawBufferPointer, pipeline: Pipeline) throws {
        var r = SnapshotReader(bytes)
        guard Array(try r.bytes(count: ProjectionSnapshot.magic.count)) == ProjectionSnapshot.magic else {
            throw ProjectionSnapshot.DecodingError.notASnapshot
        }
        let version: Int = try r.int()
        guard version == ProjectionSnapshot.formatVersion else { throw ProjectionSnapshot.DecodingError.otherVersion(version) }
        let environments = try r.strings()
        guard environments == pipeline.environments else { throw ProjectionSnapshot.DecodingError.otherPipeline(environments) }
        self.init(pipeline: pipeline)
        lastSequence = try r.int()
        recomputations = try r.int()
        var previousKey: PairKey?
        for _ in 0..<(try r.count()) {
            let state = try PairState(decoding: &r)
            try SnapshotReader.require(previousKey.map { $0 < state.key } ?? true)
            previousKey = state.key
            pairs[state.key] = state
            orderedKeys.append(state.key)
        }
        var previousService: String?
        for _ in 0..<(try r.count()) {
            let service = try r.string()
            try SnapshotReader.require(previousService.map { $0 < service } ?? true)
            previousService = service
            knowledge[service] = try ServiceKnowledge(decoding: &r)
        }
        guard r.isAtEnd else { throw ProjectionSnapshot.DecodingError.notASnapshot }
    }
}

extension PairState {
    func encode(into w: inout SnapshotWriter) {
        w.string(key.service)
        w.string(key.environment)
        w.int(lastTime)
        w.int(lastSequence)
        for n in [deployments, failures, rollbacks, rework, unverifiedPromotions, withoutLeadTime, incidents] { w.int(n) }
        w.int(deploymentLog.count)
        var previous: Int64 = 0
        for d in deploymentLog {
            w.int(d.time &- previous)
            previous = d.time
            w.byte((d.failed ? 1 : 0) | (d.rework ? 2 : 0))
        }
        for samples in [leadTimes, restoreTimes, promotionDurations] {
            w.int(samples.count)
            var previous: Int64 = 0
            for s in samples {
                w.int(s.time &- previous)
                previous = s.time
                w.double(s.seconds)
            }
        }
        for h in [leadTimeHistogram, restoreHistogram, promotionHistogram] {
            w.int(h.bounds.count)
            for b in h.bounds { w.double(b) }
            for c in h.counts { w.int(c) }
            w.double(h.sum)
            w.int(h.count)
        }
        for start in episodeStarts { w.int(start) }
        w.optionalInt(liveIndex.map(Int64.init))
        w.optionalString(liveVersion)
        w.optionalString(liveArtifact)
        w.optionalKey(liveArtifactKey)
        w.optionalString(liveActor)
        w.times(firstLive)
        w.times(firstSuccess)
        w.optionalInt(lastDeploymentTime)
        w.optionalInt(lastRollbackTime)
        w.optionalString(namespace)
        w.optionalString(workload)
        w.byte(lastAttemptFailed ? 1 : 0)
        w.strings(openIncidents.sorted())
        w.optionalInt(degradedSince)
        w.keys(commitsReached)
    }

    init(decoding r: inout SnapshotReader) throws {
        self.init(key: PairKey(service: try r.string(), environment: try r.string()))
        lastTime = try r.int()
        lastSequence = try r.int()
        deployments = try r.int()
        failures = try r.int()
        rollbacks = try r.int()
        rework = try r.int()
        unverifiedPromotions = try r.int()
        withoutLeadTime = try r.int()
        incidents = try r.int()
        let deploymentCount = try r.count()
        deploymentLog.reserveCapacity(deploymentCount)
        var time: Int64 = 0
        for _ in 0..<deploymentCount {
            time &+= try r.int()
            let flags = try r.byte()
            try SnapshotReader.require(flags & ~3 == 0)
            deploymentLog.append(DeploymentRecord(time: time, failed: flags & 1 != 0, rework: flags & 2 != 0))
        }
        func samples() throws -> [Sample] {
            let n = try r.count()
            var out: [Sample] = []
            out.reserveCapacity(n)
            var time: Int64 = 0
            for _ in 0..<n {
                time &+= try r.int()
                out.append(Sample(time: time, seconds: try r.double()))
            }
            return out
        }
        leadTimes = try samples()
        restoreTimes = try samples()
        promotionDurations = try samples()
        func histogram() throws -> Histogram {
            let bounds = try (0..<(try r.count())).map { _ in try r.double() }
            let counts: [Int] = try (0...bounds.count).map { _ in try r.int() }
            return Histogram(bounds: bounds, counts: counts, sum: try r.double(), count: try r.int())
        }
        leadTimeHistogram = try histogram()
        restoreHistogram = try histogram()
        promotionHistogram = try histogram()
        episodeStarts = try restoreTimes.map { _ in try r.int() }
        liveIndex = try r.optionalInt().map { Int($0) }
        liveVersion = try r.optionalString()
        liveArtifact = try r.optionalString()
        liveArtifactKey = try r.optionalKey()
        liveActor = try r.optionalString()
        firstLive = try r.times()
        firstSuccess = try r.times()
        lastDeploymentTime = try r.optionalInt()
        lastRollbackTime = try r.optionalInt()
        namespace = try r.optionalString()
        workload = try r.optionalString()
        lastAttemptFailed = try r.flag()
        openIncidents = Set(try r.increasingStrings())
        degradedSince = try r.optionalInt()
        commitsReached = try r.keys()
        if let live = liveIndex, !deploymentLog.indices.contains(live) { throw ProjectionSnapshot.DecodingError.notASnapshot }
    }
}

extension ServiceKnowledge {
    func encode(into w: inout SnapshotWriter) {
        w.int(commitTimes.count)
        for c in commitTimes.keys.sorted() {
            w.key(c)
            w.int(commitTimes[c]!)
        }
        w.int(artifactFirstCommit.count)
        for a in artifactFirstCommit.keys.sorted() {
            w.key(a)
            let more = artifactMoreCommits[a]?.sorted() ?? []
            w.int(1 + more.count)
            w.key(artifactFirstCommit[a]!)
            for c in more { w.key(c) }
        }
        w.int(aliasParent.count)
        for name in aliasParent.keys.sorted() {
            w.key(name)
            w.key(aliasParent[name]!)
        }
        w.int(versionNames.count)
        for a in versionNames.keys.sorted() {
            w.key(a)
            w.string(versionNames[a]!)
        }
        w.strings(environments)
        w.int(waitingForTime.count)
        for c in waitingForTime.keys.sorted() {
            w.key(c)
            w.strings(waitingForTime[c]!.sorted())
        }
    }

    init(decoding r: inout SnapshotReader) throws {
        self.init()
        let n = try r.count()
        commitTimes.reserveCapacity(n)
        var order = KeyOrder()
        for _ in 0..<n { commitTimes[try order.next(&r)] = try r.int() }
        let artifacts = try r.count()
        artifactFirstCommit.reserveCapacity(artifacts)
        order = KeyOrder()
        for _ in 0..<artifacts {
            let artifact = try order.next(&r)
            let n = try r.count()
            guard n >= 1 else { throw ProjectionSnapshot.DecodingError.notASnapshot }
            artifactFirstCommit[artifact] = try r.key()
            if n > 1 {
                var more = Set<NameKey>(minimumCapacity: n - 1)
                var moreOrder = KeyOrder()
                for _ in 1..<n { more.insert(try moreOrder.next(&r)) }
                artifactMoreCommits[artifact] = more
            }
        }
        let aliases = try r.count()
        aliasParent.reserveCapacity(aliases)
        order = KeyOrder()
        for _ in 0..<aliases {
            let name = try order.next(&r)
            let parent = try r.key()
            // A parent is always a smaller key: this keeps a damaged snapshot from looping.
            guard parent < name else { throw ProjectionSnapshot.DecodingError.notASnapshot }
            aliasParent[name] = parent
        }
        order = KeyOrder()
        for _ in 0..<(try r.count()) { versionNames[try order.next(&r)] = try r.string() }
        environments = try r.strings()
        order = KeyOrder()
        for _ in 0..<(try r.count()) { waitingForTime[try order.next(&r)] = Set(try r.increasingStrings()) }
    }
}

/// Little-endian, variable-length integers (zigzag for signed values), length-prefixed UTF-8.
struct SnapshotWriter {
    private(set) var output: [UInt8] = []

    mutating func byte(_ b: UInt8) { output.append(b) }
    mutating func bytes(_ b: [UInt8]) { output.append(contentsOf: b) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        output.append(UInt8(v))
    }

    mutating func int<I: FixedWidthInteger & SignedInteger>(_ value: I) {
        let v = Int64(value)
        varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    mutating func fixed64(_ value: UInt64) {
        for i in 0..<8 { output.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    mutating func double(_ value: Double) { fixed64(value.bitPattern) }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            output.append(contentsOf: utf8)
        }
    }

    mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }

    mutating func optionalString(_ s: String?) {
        if let s {
            byte(1)
            string(s)
        } else {
            byte(0)
        }
    }

    mutating func optionalInt(_ v: Int64?) {
        if let v {
            byte(1)
            int(v)
        } else {
            byte(0)
        }
    }

    mutating func key(_ k: NameKey) {
        fixed64(k.high)
        fixed64(k.low)
    }

    mutating func optionalKey(_ k: NameKey?) {
        if let k {
            byte(1)
            key(k)
        } else {
            byte(0)
        }
    }

    /// A map of names to times, in key order.
    mutating func times(_ map: TimesByName) {
        int(map.byKey.count)
        for k in map.byKey.keys.sorted() {
            key(k)
            int(map.byKey[k]!)
        }
    }

    mutating func keys(_ set: Set<NameKey>) {
        int(set.count)
        for k in set.sorted() { key(k) }
    }
}

/// Reads what `SnapshotWriter` wrote; every read is bounds-checked, and only the one
/// encoding the writer gives is accepted (minimal varints, 0 or 1 flags, valid UTF-8, keys
/// in strictly increasing order), so whatever decodes encodes back to the same bytes.
struct SnapshotReader {
    static func require(_ condition: Bool) throws {
        guard condition else { throw ProjectionSnapshot.DecodingError.notASnapshot }
    }

    private let input: UnsafeRawBufferPointer
    private var offset = 0

    init(_ input: UnsafeRawBufferPointer) { self.input = input }

    var isAtEnd: Bool { offset == input.count }

    mutating func byte() throws -> UInt8 {
        guard offset < input.count else { throw ProjectionSnapshot.DecodingError.truncated }
        defer { offset += 1 }
        return input[offset]
    }

    mutating func bytes(count: Int) throws -> UnsafeRawBufferPointer.SubSequence {
        guard count >= 0, count <= input.count - offset else { throw ProjectionSnapshot.DecodingError.truncated }
        defer { offset += count }
        return input[offset..<offset + count]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            // The 10th byte holds only the top bit; a last byte of 0 would be a longer
            // spelling of a shorter varint.
            try Self.require(shift < 63 || b <= 1)
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 {
                try Self.require(b != 0 || shift == 0)
                return result
            }
            shift += 7
        }
    }

    mutating func int<I: FixedWidthInteger & SignedInteger>() throws -> I {
        let u = try varint()
        let v = Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        guard let exact = I(exactly: v) else { throw ProjectionSnapshot.DecodingError.notASnapshot }
        return exact
    }

    /// A count of following items, which can never exceed the bytes left.
    mutating func count() throws -> Int {
        let n: Int = try int()
        guard n >= 0, n <= input.count - offset else { throw ProjectionSnapshot.DecodingError.truncated }
        return n
    }

    mutating func fixed64() throws -> UInt64 {
        let b = try bytes(count: 8)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        return v
    }

    mutating func double() throws -> Double { Double(bitPattern: try fixed64()) }

    mutating func string() throws -> String {
        let n = try varint()
        guard n <= UInt64(input.count - offset) else { throw ProjectionSnapshot.DecodingError.truncated }
        guard let s = String(validating: try bytes(count: Int(n)), as: UTF8.self) else {
            throw ProjectionSnapshot.DecodingError.notASnapshot
        }
        return s
    }

    /// Strings written in increasing order (a sorted set).
    mutating func increasingStrings() throws -> [String] {
        let list = try strings()
        try Self.require(zip(list, list.dropFirst()).allSatisfy { $0 < $1 })
        return list
    }

    /// A byte written for a Bool or for whether an optional follows: 0 or 1.
    mutating func flag() throws -> Bool {
        let b = try byte()
        try Self.require(b <= 1)
        return b == 1
    }

    mutating func strings() throws -> [String] {
        try (0..<(try count())).map { _ in try string() }
    }

    mutating func optionalString() throws -> String? {
        try flag() ? try string() : nil
    }

    mutating func optionalInt() throws -> Int64? {
        try flag() ? try int() : nil
    }

    mutating func key() throws -> NameKey {
        let high = try fixed64()
        return NameKey(high: high, low: try fixed64())
    }

    mutating func optionalKey() throws -> NameKey? {
        try flag() ? try key() : nil
    }

    /// A map written by `times(_:)`; keys in strictly increasing order, as written.
    mutating func times() throws -> TimesByName {
        let n = try count()
        var map: [NameKey: Int64] = [:]
        map.reserveCapacity(n)
        var order = KeyOrder()
        for _ in 0..<n {
            let k = try order.next(&self)
            map[k] = try int()
        }
        return TimesByName(byKey: map)
    }

    mutating func keys() throws -> Set<NameKey> {
        let n = try count()
        var set = Set<NameKey>(minimumCapacity: n)
        var order = KeyOrder()
        for _ in 0..<n { set.insert(try order.next(&self)) }
        return set
    }
}

/// Reads the keys of a map or set, which were written in strictly increasing order.
struct KeyOrder {
    private var previous: NameKey?

    mutating func next(_ r: inout SnapshotReader) throws -> NameKey {
        let k = try r.key()
        try SnapshotReader.require(previous.map { $0 < k } ?? true)
        previous = k
        return k
    }
}
