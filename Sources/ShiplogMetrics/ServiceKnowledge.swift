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
    /// Artifact identity → the commits built into it.
    var artifactChanges: [String: Set<UInt64>] = [:]
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
            for change in changes {
                let h = stableHash(change.commit)
                if artifactChanges[artifact, default: []].insert(h).inserted { news.artifactChanges.append((artifact, h)) }
            }
        }
        return news
    }

    /// The changes a deployment of `artifact` ships besides its own.
    func changes(of artifact: String) -> Set<UInt64> { artifactChanges[artifact] ?? [] }
}

extension ServiceKnowledge: Equatable {
    /// Equal when they know the same (the order the environments appeared in, and which
    /// pairs wait for a time, depend on the arrival order; the figures do not).
    static func == (a: ServiceKnowledge, b: ServiceKnowledge) -> Bool {
        a.commitTimes == b.commitTimes && a.artifactChanges == b.artifactChanges && Set(a.environments) == Set(b.environments)
    }
}
