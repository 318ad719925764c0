import ShiplogModel

/// What the events of one service tell about its artifacts and changes, whichever
/// environment they belong to (PRODUCT.md §1 and §3, *Changes and commit times*): which
/// names are one artifact, each commit's earliest stated time and each artifact's changes.
/// Names are kept as `NameKey`: the figures need only their identity.
///
/// The projection and the explanation both learn through `learn(from:)` and resolve
/// through `identity(of:)`, so the rules of what a deployment ships and when a change was
/// committed exist once.
///
/// Which pairs used a commit or an artifact is not stored here: a pair's own state says it
/// (`commitsReached`, `firstLive`), so news is checked against the service's few pairs.
struct ServiceKnowledge: Sendable {
    /// Commit → the earliest time any event of the service states for it.
    var commitTimes: [NameKey: Int64] = [:]
    /// Artifact (its `identity`) → the first commit built into it, and its other commits for
    /// the few artifacts built from several: one 16-byte value per artifact, where a list in
    /// the map would take more (a log of a million deployments holds about as many artifacts).
    var artifactFirstCommit: [NameKey: NameKey] = [:]
    var artifactMoreCommits: [NameKey: Set<NameKey>] = [:]
    /// Names that one event named together (a digest and a version): each name → its
    /// parent, a smaller key of the same artifact. A name not here is an artifact of its
    /// own. The root of a class is its smallest key, so the identity does not depend on the
    /// order the links arrived in.
    var aliasParent: [NameKey: NameKey] = [:]
    /// An artifact known by several names → the version people know it by (the smallest
    /// version string named with it, so again independent of arrival order).
    var versionNames: [NameKey: String] = [:]
    /// The service's environments that have a pair.
    var environments: [String] = []
    /// Commits without a known time that were added to an artifact after these environments
    /// had deployed it: nothing changes until the commit's time is learnt, and then they are
    /// recomputed (their own state does not name the commit yet).
    var waitingForTime: [NameKey: Set<String>] = [:]

    /// What one event taught that may change figures already computed.
    struct News {
        /// Commits whose time became known or earlier.
        var commitTimes: [NameKey] = []
        /// Commits newly tied to an artifact.
        var artifactChanges: [(artifact: NameKey, commit: NameKey)] = []
        /// Artifacts that became one: the former identities of both.
        var mergedArtifacts: [NameKey] = []
        var isEmpty: Bool { commitTimes.isEmpty && artifactChanges.isEmpty && mergedArtifacts.isEmpty }
    }

    /// The artifact a name belongs to.
    func root(of name: NameKey) -> NameKey {
        var k = name
        while let parent = aliasParent[k] { k = parent }
        return k
    }

    /// The artifact an event deploys or publishes, whichever of its names it gives.
    func identity(of event: Event) -> NameKey? {
        (event.artifactIdentity).map { root(of: NameKey($0)) }
    }

    /// The version an artifact is known by: the event's own, else one named with its digest.
    func version(of event: Event, identity: NameKey?) -> String? {
        event.version ?? identity.flatMap { versionNames[$0] }
    }

    /// Learns what `event` states about the service's artifacts and commits.
    mutating func learn(from event: Event) -> News {
        var news = News()
        if let digest = event.artifactDigest, let version = event.version {
            link(NameKey(digest), NameKey(version), version: version, news: &news)
        }
        for (commit, time) in event.statedCommitTimes {
            let h = NameKey(commit)
            if let known = commitTimes[h], known <= time { continue }
            commitTimes[h] = time
            news.commitTimes.append(h)
        }
        let changes = event.shippedChanges
        if event.type.tiesChangesToArtifact, !changes.isEmpty, let key = identity(of: event) {
            for change in changes {
                let h = NameKey(change.commit)
                if add(h, to: key) { news.artifactChanges.append((key, h)) }
            }
        }
        return news
    }

    /// Makes two names one artifact (the smaller root wins), moving the other's commits over.
    private mutating func link(_ a: NameKey, _ b: NameKey, version: String, news: inout News) {
        let ra = root(of: a)
        let rb = root(of: b)
        let winner = min(ra, rb)
        if ra != rb {
            let loser = max(ra, rb)
            aliasParent[loser] = winner
            // Direct parents for the two names themselves keep lookups short.
            if a != winner { aliasParent[a] = winner }
            if b != winner { aliasParent[b] = winner }
            if let moved = commits(ofArtifact: loser) {
                artifactFirstCommit[loser] = nil
                artifactMoreCommits[loser] = nil
                for c in moved.all { _ = add(c, to: winner) }
            }
            if let other = versionNames.removeValue(forKey: loser) { nameVersion(winner, other) }
            news.mergedArtifacts += [winner, loser]
        }
        nameVersion(winner, version)
    }

    private mutating func nameVersion(_ artifact: NameKey, _ version: String) {
        if let known = versionNames[artifact], known <= version { return }
        versionNames[artifact] = version
    }

    /// Adds a commit to an artifact; false when it was there.
    private mutating func add(_ commit: NameKey, to artifact: NameKey) -> Bool {
        guard let first = artifactFirstCommit[artifact] else {
            artifactFirstCommit[artifact] = commit
            return true
        }
        return first != commit && artifactMoreCommits[artifact, default: []].insert(commit).inserted
    }

    /// The commits built into an artifact (by its identity).
    func commits(ofArtifact key: NameKey) -> CommitList? {
        artifactFirstCommit[key].map { CommitList($0, rest: artifactMoreCommits[key]) }
    }
}

/// The commits of one artifact. Most artifacts are built from one commit, so the first is
/// kept inline and a set is allocated only for a second.
struct CommitList: Sendable, Equatable {
    private(set) var first: NameKey
    private(set) var rest: Set<NameKey>?

    init(_ commit: NameKey, rest: Set<NameKey>? = nil) {
        first = commit
        self.rest = rest
    }

    var all: [NameKey] { [first] + (rest.map(Array.init) ?? []) }

    /// Appends the commits to `list`, without allocating for the common single one.
    func append(to list: inout [NameKey]) {
        list.append(first)
        if let rest { list.append(contentsOf: rest) }
    }

    static func == (a: CommitList, b: CommitList) -> Bool { Set(a.all) == Set(b.all) }
}

extension ServiceKnowledge: Equatable {
    /// Equal when they know the same (the order the environments appeared in, which pairs
    /// wait for a time and the shape of the alias tree depend on the arrival order; the
    /// figures do not).
    static func == (a: ServiceKnowledge, b: ServiceKnowledge) -> Bool {
        func classes(_ k: ServiceKnowledge) -> [NameKey: NameKey] {
            Dictionary(uniqueKeysWithValues: k.aliasParent.keys.map { ($0, k.root(of: $0)) })
        }
        return a.commitTimes == b.commitTimes && a.artifactFirstCommit.count == b.artifactFirstCommit.count
            && a.artifactFirstCommit.keys.allSatisfy { a.commits(ofArtifact: $0) == b.commits(ofArtifact: $0) }
            && Set(a.environments) == Set(b.environments) && classes(a) == classes(b) && a.versionNames == b.versionNames
    }
}
