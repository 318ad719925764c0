import Foundation

/// The PostgreSQL server the tests use: `SHIPLOG_TEST_POSTGRES_URL` names a superuser's
/// connection (`.ci/run` starts a throwaway cluster with `scripts/postgres-cluster.sh`).
/// Tests that need it fail, with how to start one, when it is not set.
package enum TestPostgres {
    package static let setUp = """
        SHIPLOG_TEST_POSTGRES_URL is not set: these tests need a PostgreSQL server. Start a throwaway one with
          eval "$(bash scripts/postgres-cluster.sh start)"
        (Debian: apt-get install postgresql), or run the whole suite with `bash .ci/run`.
        """

    /// The server's URL (a superuser on its `postgres` database).
    package static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["SHIPLOG_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw HarnessError(setUp)
        }
        return url
    }

    /// A new, empty database on the server; its URL.
    package static func freshDatabase() throws -> String {
        let admin = try url()
        let name = "shiplog_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let created = try psql(admin, "CREATE DATABASE \(name)")
        guard created.status == 0 else { throw HarnessError("could not create a test database: \(created.output)") }
        return url(admin, database: String(name))
    }

    /// `admin` with its database replaced by `database`.
    package static func url(_ admin: String, database: String) -> String {
        var components = URLComponents(string: admin)!
        components.path = "/" + database
        return components.string!
    }

    /// Runs `psql` (as a user would, from a shell) on `url`; its exit status and output.
    package static func psql(_ url: String, _ sql: String) throws -> (status: Int32, output: String) {
        let result = try runProgram("/usr/bin/psql", [url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
        return (result.status, (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A PostgreSQL server of one test's own, which the test may stop and start again (the shared
/// one serves every other test). Its postmaster runs in the foreground as a child of the test
/// (through `setpriv` as the `postgres` user when the tests run as root), so stopping it is a
/// signal and a wait. Needs Debian's `postgresql` (the binaries `SHIPLOG_TEST_POSTGRES_BIN`
/// names, or the newest under /usr/lib/postgresql).
package final class PrivatePostgres: @unchecked Sendable {
    package let dir: String
    package let port: Int
    private let bin: String
    private var server: BackgroundProcess?

    /// The superuser's URL on the `postgres` database.
    package var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable" }

    package init() throws {
        let env = ProcessInfo.processInfo.environment
        let installed = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted {
            $0.compare($1, options: .numeric) == .orderedAscending
        }
        guard
            let bin = env["SHIPLOG_TEST_POSTGRES_BIN"].flatMap({ $0.isEmpty ? nil : $0 }) ?? installed?.last.map({ "/usr/lib/postgresql/\($0)/bin" }),
            FileManager.default.isExecutableFile(atPath: bin + "/initdb")
        else { throw HarnessError("PostgreSQL is not installed (Debian: apt-get install postgresql).\n" + TestPostgres.setUp) }
        self.bin = bin
        dir = "/tmp/shiplog-pg-private-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.check(try runTool(["chown", "postgres:", dir]), "chown") }
        port = freeLoopbackPort()
        try Self.check(
            try runTool(Self.asPostgres + ["\(bin)/initdb", "-D", "\(dir)/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]),
            "initdb"
        )
        let settings = "listen_addresses = '127.0.0.1'\nport = \(port)\nunix_socket_directories = '\(dir)'\nmax_connections = 100\n"
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/data/postgresql.conf"))
        try conf.seekToEnd()
        try conf.write(contentsOf: Data(settings.utf8))
        try conf.close()
        try start()
    }

    /// Starts the postmaster and waits until it accepts connections.
    package func start() throws {
        server = try BackgroundProcess(
            Self.asPostgres + ["\(bin)/postgres", "-D", "\(dir)/data"],
            log: "\(dir)/server-\(UUID().uuidString.prefix(4)).log"
        )
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try runTool(["\(bin)/pg_isready", "-q", "-h", "127.0.0.1", "-p", "\(port)"]).status == 0 { return }
            if server?.process.isRunning != true { break }
            usleep(100_000)
        }
        throw HarnessError("the private PostgreSQL server did not start: \(server?.log.suffix(2000) ?? "")")
    }

    /// Stops the postmaster: a fast shutdown (SIGINT, open sessions are cut), or an immediate
    /// one (SIGQUIT, like a crash: recovery replays the WAL at the next start).
    package func stop(immediately: Bool = false) {
        guard let server, server.process.isRunning else { return }
        kill(server.process.processIdentifier, immediately ? SIGQUIT : SIGINT)
        server.process.waitUntilExit()
        self.server = nil
    }

    private static var asPostgres: [String] {
        getuid() == 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
    }

    private static func check(_ result: RunResult, _ what: String) throws {
        guard result.status == 0 else { throw HarnessError("\(what) failed: \(result.stdout)") }
    }

    deinit {
        stop(immediately: true)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
