/// Which rows of the log the projection has applied: every row up to `through`, plus rows
/// beyond a gap kept as sorted, disjoint ranges. Appends finish almost in order and an
/// import fills a gap in one piece, so a few ranges describe any number of rows.
struct AppliedSequences: Sendable, Hashable {
    /// Every row up to here is applied.
    private(set) var through: Int64 = 0
    /// Applied rows beyond `through + 1`, ascending, neither overlapping nor adjacent.
    private(set) var ahead: [ClosedRange<Int64>] = []

    init(through: Int64 = 0) { self.through = through }

    /// Whether nothing beyond `through` is applied (there is no gap).
    var isContiguous: Bool { ahead.isEmpty }

    func contains(_ sequence: Int64) -> Bool {
        if sequence <= through { return true }
        let i = firstIndex(endingAtOrAfter: sequence)
        return i < ahead.count && ahead[i].contains(sequence)
    }

    mutating func insert(_ sequence: Int64) {
        guard !contains(sequence) else { return }
        var i = firstIndex(endingAtOrAfter: sequence - 1)
        var range = sequence...sequence
        // Join a range ending just before it, then one starting just after it.
        if i < ahead.count, ahead[i].upperBound == sequence - 1 {
            range = ahead[i].lowerBound...sequence
            ahead.remove(at: i)
        }
        if i < ahead.count, ahead[i].lowerBound == sequence + 1 {
            range = range.lowerBound...ahead[i].upperBound
            ahead.remove(at: i)
        }
        if range.lowerBound == through + 1 {
            through = range.upperBound
        } else {
            i = firstIndex(endingAtOrAfter: range.lowerBound)
            ahead.insert(range, at: i)
        }
    }

    /// The index of the first range whose upper bound is at least `sequence`.
    private func firstIndex(endingAtOrAfter sequence: Int64) -> Int {
        var low = 0, high = ahead.count
        while low < high {
            let mid = (low + high) / 2
            if ahead[mid].upperBound < sequence { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
