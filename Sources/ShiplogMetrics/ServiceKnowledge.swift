import ShiplogModel

/// What the events of one service tell about its changes, whichever environment they belong
/// to (PRODUCT.md §3, *Changes and commit times*): each commit's earliest stated time and
/// each artifact's changes. Commits are kept as `stableHash(commit)`: the figures need only
/// their identity.
///
/// Which pairs used a commit or an artifact is not stored here: a pair's own state says it
/// (`commitsReached`, `firstSuccess`), so news is checked against the service's few pairs.
struct ServiceKnowledge: Sendable {
    /// Commit → the earliest time any event of the service states for it.
    var commitTimes: [UInt64: Int64] = [:]
    /// Artifact identity (by `stableHash`) → the first commit built into it, and its other
    /// commits for the few artifacts built from several: one 8-byte value per artifact, where a
    /// list in the map would take 16 (a log of a million deployments holds about as many artifacts).
    var artifactFirstCommit: [UInt64: UInt64] = [:]
    var artifactMoreCommits: [UInt64: Set<UInt64>] = [:]
    /// The service's environments that have a pair.
    var environments: [String] = []
    /// Commits without a known time that were added to an artifact after these environments
    /// had deployed it: nothing changes until the commit's time is learnt, and then they are
    /// recomputed (their own state does not name the commit yet).
    var waitingForTime: [UInt64: Set<String>] = [:]

    /// What one event taught that may change figures already computed.
    struct News {
        /// Commits whose time became known or earlier.
        var commitTimes: [UInt64] = []
        /// Commits newly tied to an artifact.
        var artifactChanges: [(artifact: String, commit: UInt64)] = []
        var isEmpty: Bool { commitTimes.isEmpty && artifactChanges.isEmpty }
    }

    /// Learns what `event` states about the service's commits and artifacts.
    mutating func learn(from event: Event) -> News {
        var news = News()
        func state(_ commit: String, _ time: Int64) {
            let h = stableHash(commit)
            if let known = commitTimes[h], known <= time { return }
            commitTimes[h] = time
            news.commitTimes.append(h)
        }
        if event.type == .changeMerged, let commit = event.commit { state(commit, event.time!.nanoseconds) }
        let changes = event.shippedChanges
        for change in changes {
            if let t = change.time { state(change.commit, t.nanoseconds) }
        }
        if event.type.tiesChangesToArtifact, !changes.isEmpty, let artifact = event.artifactIdentity {
            let key = stableHash(artifact)
            for change in changes {
                let h = stableHash(change.commit)
                let added: Bool
                if let first = artifactFirstCommit[key] {
                    added = first != h && artifactMoreCommits[key, default: []].insert(h).inserted
                } else {
                    artifactFirstCommit[key] = h
                    added = true
                }
                if added { news.artifactChanges.append((artifact, h)) }
            }
        }
        return news
    }

    /// The commits built into an artifact (by `stableHash` of its identity).
    func commits(ofArtifact key: UInt64) -> CommitList? {
        artifactFirstCommit[key].map { CommitList($0, rest: artifactMoreCommits[key]) }
    }
}

/// The commits of one artifact. Most artifacts are built from one commit, so the first is
/// kept inline and a set is allocated only for a second.
struct CommitList: Sendable, Equatable {
    private(set) var first: UInt64
    private(set) var rest: Set<UInt64>?

    init(_ commit: UInt64, rest: Set<UInt64>? = nil) {
        first = commit
        self.rest = rest
    }

    /// Adds a commit; false when it was there.
    mutating func insert(_ commit: UInt64) -> Bool {
        if commit == first { return false }
        if rest == nil { rest = [] }
        return rest!.insert(commit).inserted
    }

    var all: [UInt64] { [first] + (rest.map(Array.init) ?? []) }

    /// Appends the commits to `list`, without allocating for the common single one.
    func append(to list: inout [UInt64]) {
        list.append(first)
        if let rest { list.append(contentsOf: rest) }
    }

    static func == (a: CommitList, b: CommitList) -> Bool { Set(a.all) == Set(b.all) }
}

extension ServiceKnowledge: Equatable {
    /// Equal when they know the same (the order the environments appeared in, and which
    /// pairs wait for a time, depend on the arrival order; the figures do not).
    static func == (a: ServiceKnowledge, b: ServiceKnowledge) -> Bool {
        a.commitTimes == b.commitTimes && a.artifactFirstCommit.count == b.artifactFirstCommit.count
            && a.artifactFirstCommit.keys.allSatisfy { a.commits(ofArtifact: $0) == b.commits(ofArtifact: $0) }
            && Set(a.environments) == Set(b.environments)
    }
}
