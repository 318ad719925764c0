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
