import ShiplogModel

/// What the events of one service tell about its changes, whichever environment they belong
/// to (PRODUCT.md §3, *Changes and commit times*): each commit's earliest stated time and
/// each artifact's changes. It also remembers which environments used each commit and each
/// artifact, so that news about one recomputes exactly the pairs whose figures it changes.
///
/// Commits are kept as `stableHash(commit)`: the figures need only their identity.
struct ServiceKnowledge: Sendable, Equatable {
    /// Commit → the earliest time any event of the service states for it.
    var commitTimes: [UInt64: Int64] = [:]
    /// Artifact identity → the commits built into it.
    var artifactChanges: [String: Set<UInt64>] = [:]
    /// The service's environments in the order they first used something; the users below
    /// are bit masks over it (bit 63 stands for every environment from the 64th on).
    var environments: [String] = []
    var commitUsers: [UInt64: UInt64] = [:]
    var artifactUsers: [String: UInt64] = [:]

    /// Learns what `event` states; returns the environments whose figures used something
    /// that changed (a commit time that moved earlier, an artifact with a new change).
    mutating func learn(from event: Event) -> [String] {
        var touched: UInt64 = 0
        func state(_ commit: String, _ time: Int64) {
            let h = stableHash(commit)
            if let known = commitTimes[h], known <= time { return }
            commitTimes[h] = time
            touched |= commitUsers[h] ?? 0
        }
        if event.type == .changeMerged, let commit = event.commit { state(commit, event.time!.nanoseconds) }
        let changes = event.shippedChanges
        for change in changes {
            if let t = change.time { state(change.commit, t.nanoseconds) }
        }
        if event.type.tiesChangesToArtifact, !changes.isEmpty, let artifact = event.artifactIdentity {
            let users = artifactUsers[artifact] ?? 0
            for change in changes {
                let h = stableHash(change.commit)
                guard artifactChanges[artifact, default: []].insert(h).inserted, users != 0 else { continue }
                // A change without a known time alters no figure of the artifact's users until
                // its time is learnt: they become its users, recomputed when that happens.
                if commitTimes[h] != nil { touched |= users } else { commitUsers[h, default: 0] |= users }
            }
        }
        return environments(in: touched)
    }

    /// Records that `environment` shipped these commits (and this artifact).
    mutating func use(environment: String, commits: [UInt64], artifact: String?) {
        let bit = self.bit(for: environment)
        for c in commits { commitUsers[c, default: 0] |= bit }
        if let artifact { artifactUsers[artifact, default: 0] |= bit }
    }

    /// The changes a deployment of `artifact` ships besides its own, in a fixed order.
    func changes(of artifact: String) -> Set<UInt64> { artifactChanges[artifact] ?? [] }

    private mutating func bit(for environment: String) -> UInt64 {
        let index = environments.firstIndex(of: environment) ?? {
            environments.append(environment)
            return environments.count - 1
        }()
        return 1 << UInt64(min(index, 63))
    }

    /// Equal when they know the same and would recompute the same pairs (the bit order of
    /// the users depends on arrival order; what it means does not).
    static func == (a: ServiceKnowledge, b: ServiceKnowledge) -> Bool {
        a.commitTimes == b.commitTimes && a.artifactChanges == b.artifactChanges
            && a.commitUsers.mapValues { Set(a.environments(in: $0)) } == b.commitUsers.mapValues { Set(b.environments(in: $0)) }
            && a.artifactUsers.mapValues { Set(a.environments(in: $0)) } == b.artifactUsers.mapValues { Set(b.environments(in: $0)) }
    }

    private func environments(in mask: UInt64) -> [String] {
        guard mask != 0 else { return [] }
        var out: [String] = []
        for (i, e) in environments.enumerated() where mask & (1 << UInt64(min(i, 63))) != 0 { out.append(e) }
        return out
    }
}
