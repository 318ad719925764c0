import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL as libpq spells it:
/// `postgres://user:password@host:5432/database?sslmode=require`, or `postgresql://…`.
///
/// `sslmode` is `disable`, `prefer` (the default), `require`, `verify-ca` or `verify-full`
/// (`require` encrypts without checking the certificate, as libpq does; the `verify-` modes
/// check it against the system's roots, `sslrootcert=` names another bundle). `host=/path`
/// in the query connects through the Unix socket in that folder. The password comes from the
/// URL, else `PGPASSWORD`, else the file `SHIPLOG_DB_PASSWORD_FILE` names (a mounted Secret).
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var socketFolder: String?
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var rootCertificate: String?

    /// Whether `text` names a PostgreSQL database rather than a file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses `text`; the error says what is wrong with it, without repeating a password.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresURLError) {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresURLError("expected a URL like postgres://user:password@host:5432/database?sslmode=require")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let known: Set<String> = ["sslmode", "host", "sslrootcert", "application_name", "connect_timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresURLError("unknown parameter \(unknown) (shiplog understands \(known.sorted().joined(separator: ", ")))")
        }
        if let mode = query["sslmode"] {
            guard let parsed = SSLMode(rawValue: mode) else {
                throw PostgresURLError("sslmode=\(mode): expected one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = parsed
        } else {
            sslMode = .prefer
        }
        rootCertificate = query["sslrootcert"]
        socketFolder = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"].flatMap { $0.hasPrefix("/") ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw PostgresURLError("port \(port) is out of range") }
        user = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? "postgres"
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? user
        if let fromURL = components.password {
            password = fromURL.removingPercentEncoding
        } else if let fromEnvironment = environment["PGPASSWORD"], !fromEnvironment.isEmpty {
            password = fromEnvironment
        } else if let file = environment["SHIPLOG_DB_PASSWORD_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw PostgresURLError("SHIPLOG_DB_PASSWORD_FILE \(file) cannot be read")
            }
            password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        } else {
            password = nil
        }
    }

    /// The URL with its password left out: for logs and messages.
    public var description: String {
        let at = socketFolder.map { "\(user)@[\($0)]" } ?? "\(user)@\(host):\(port)"
        return "postgres://\(at)/\(database)"
    }

    /// The client configuration this URL asks for.
    func configuration() throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketFolder {
            configuration = .init(
                unixSocketPath: socketFolder + "/.s.PGSQL.\(port)",
                username: user,
                password: password,
                database: database
            )
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            switch sslMode {
            case .disable, .prefer, .require:
                tls.certificateVerification = .none
            case .verifyCA:
                tls.certificateVerification = .noHostnameVerification
            case .verifyFull:
                tls.certificateVerification = .fullVerification
            }
            if let rootCertificate {
                tls.trustRoots = .file(rootCertificate)
            }
            let mode: PostgresClient.Configuration.TLS =
                switch sslMode {
                case .disable: .disable
                case .prefer: .prefer(tls)
                case .require, .verifyCA, .verifyFull: .require(tls)
                }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: mode)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 16
        // An append is acknowledged after its COMMIT: it must be durable then, whatever the
        // database's or role's default (a one-statement append has no transaction to set it in).
        configuration.options.additionalStartupParameters = [("synchronous_commit", "on")]
        return configuration
    }
}

/// Why a PostgreSQL URL cannot be used.
public struct PostgresURLError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = "database URL: " + description }
}
