import Foundation

/// Whole lines of an NDJSON input, each with its 1-based line number; `bytes` may hold the
/// start of the next line after the last one.
struct NDJSONBatch: Sendable {
    var bytes: [UInt8]
    var lines: [(number: Int, range: Range<Int>)]
}

/// An NDJSON input that can be read more than once, a batch of lines at a time: a file, or
/// standard input, which is copied to an unlinked temporary file as it is read the first time
/// (unless it is a file itself).
final class NDJSONInput {
    /// The longest line accepted: an event is at most a request body of a few MiB.
    static let maxLineBytes = 4 << 20

    let name: String
    /// Bytes in the input, when it is a file.
    let size: Int?
    private let fd: Int32
    private let start: off_t
    private var spool: Int32?
    private var readOnce = false

    init(path: String) throws {
        if path == "-" {
            name = "standard input"
            fd = STDIN_FILENO
        } else {
            name = path
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))") }
        }
        var info = stat()
        let regular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        if regular {
            start = lseek(fd, 0, SEEK_CUR)
            size = Int(info.st_size - start)
        } else {
            start = 0
            size = nil
            if path != "-" { throw CLIError("cannot read \(path): not a file") }
            let template = (NSTemporaryDirectory() as NSString).appendingPathComponent("shiplog-import.XXXXXX")
            var name = Array(template.utf8CString)
            let spooled = mkstemp(&name)
            if spooled < 0 { throw CLIError("cannot keep standard input in \(template): \(String(cString: strerror(errno)))") }
            unlink(name)
            spool = spooled
        }
    }

    deinit {
        if fd != STDIN_FILENO { close(fd) }
        if let spool { close(spool) }
    }

    /// A reader from the beginning of the input.
    func reader() throws -> NDJSONReader {
        defer { readOnce = true }
        if let spool {
            if !readOnce { return NDJSONReader(fd: fd, copy: spool) }
            lseek(spool, 0, SEEK_SET)
            return NDJSONReader(fd: spool, copy: nil)
        }
        if lseek(fd, start, SEEK_SET) < 0 { throw CLIError("cannot read \(name) again: \(String(cString: strerror(errno)))") }
        return NDJSONReader(fd: fd, copy: nil)
    }
}

/// Reads whole lines from a file descriptor, a batch at a time, never holding more than one
/// batch and one read block.
struct NDJSONReader {
    /// A batch ends after this many bytes of lines, whatever its number of lines.
    static let maxBatchBytes = 16 << 20
    private static let blockSize = 1 << 20

    private let fd: Int32
    private let copy: Int32?
    private var buffer: [UInt8] = []
    private var nextNumber = 1
    private var atEnd = false
    private(set) var bytesRead = 0

    init(fd: Int32, copy: Int32?) {
        self.fd = fd
        self.copy = copy
    }

    /// Up to `maxLines` non-blank lines, nil at the end of the input.
    mutating func next(maxLines: Int) throws -> NDJSONBatch? {
        var lines: [(number: Int, range: Range<Int>)] = []
        var lineStart = 0
        var scanned = 0
        while lines.count < maxLines, lineStart < Self.maxBatchBytes {
            if let newline = Self.newline(in: buffer, from: scanned) {
                try add(lineStart..<newline, to: &lines)
                lineStart = newline + 1
                scanned = lineStart
                continue
            }
            scanned = buffer.count
            if buffer.count - lineStart > NDJSONInput.maxLineBytes {
                throw tooLong()
            }
            if atEnd {
                if lineStart < buffer.count {
                    try add(lineStart..<buffer.count, to: &lines)
                    lineStart = buffer.count
                }
                break
            }
            try fill()
        }
        if lines.isEmpty && atEnd && lineStart >= buffer.count { return nil }
        let bytes = buffer
        buffer = Array(buffer[lineStart...])
        return NDJSONBatch(bytes: bytes, lines: lines)
    }

    private mutating func add(_ range: Range<Int>, to lines: inout [(number: Int, range: Range<Int>)]) throws {
        defer { nextNumber += 1 }
        if range.count > NDJSONInput.maxLineBytes {
            throw tooLong()
        }
        if buffer[range].contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
            lines.append((nextNumber, range))
        }
    }

    private func tooLong() -> CLIError {
        CLIError("line \(nextNumber): longer than \(NDJSONInput.maxLineBytes) bytes (one event per line); nothing was written")
    }

    private static func newline(in buffer: [UInt8], from offset: Int) -> Int? {
        guard offset < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { all in
            guard let found = memchr(all.baseAddress! + offset, 0x0A, all.count - offset) else { return nil }
            return all.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    private mutating func fill() throws {
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.blockSize))
        let n = buffer.withUnsafeMutableBufferPointer { all in
            var n: Int
            repeat { n = read(fd, all.baseAddress! + old, Self.blockSize) } while n < 0 && errno == EINTR
            return n
        }
        if n < 0 {
            buffer.removeLast(Self.blockSize)
            throw CLIError("cannot read the input: \(String(cString: strerror(errno)))")
        }
        buffer.removeLast(Self.blockSize - n)
        if n == 0 { atEnd = true }
        bytesRead += n
        if let copy, n > 0 { try Self.writeAll(buffer[old...], to: copy) }
    }

    private static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) throws {
        try bytes.withUnsafeBufferPointer { all in
            var done = 0
            while done < all.count {
                let n = write(fd, all.baseAddress! + done, all.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CLIError("cannot keep standard input in a temporary file: \(String(cString: strerror(errno))); nothing was written")
                }
                done += n
            }
        }
    }
}
