import ArgumentParser
import Testing

@testable import shiplog

/// The lines `QuickParse` takes build what ArgumentParser builds from them; every other line is
/// left to ArgumentParser.
@Suite struct QuickParseTests {
    static let taken: [[String]] = [
        ["events", "list"],
        ["events", "list", "--env", "production", "--limit", "50"],
        ["events", "list", "--environment=staging", "--format", "json"],
        ["events", "list", "--environment", "staging", "--db=/tmp/x.db"],
        [
            "events", "list", "--db", "/tmp/x.db", "--service", "api", "--type", "deployment.succeeded", "--since", "7d",
            "--until=2026-01-01T00:00:00Z", "--format=ndjson", "--limit=0",
        ],
        ["events", "list", "--server", "http://127.0.0.1:1", "--retry-for", "0", "--format", "table"],
        ["events", "list", "--limit", "+5", "--env=a=b"],
        ["events", "list", "--service", "two words", "--type", "no.such.type"],
    ]

    @Test(arguments: taken) func buildsWhatArgumentParserBuilds(_ line: [String]) throws {
        let quick = try #require(QuickParse.command(line) as? EventsList)
        let parsed = try #require(try Shiplog.parseAsRoot(line) as? EventsList)
        #expect(described(quick) == described(parsed))
        #expect(described(quick).contains("definition") == false)
    }

    static let left: [[String]] = [
        [], ["--version"], ["events"], ["events", "record", "--env", "a"], ["events", "list", "production"],
        ["events", "list", "--help"], ["events", "list", "-h"], ["events", "list", "--", "--env", "a"],
        ["events", "list", "--env"], ["events", "list", "--env", "--limit", "5"], ["events", "list", "--env="],
        ["events", "list", "--env", "-1"], ["events", "list", "--env", "a", "--env", "b"],
        ["events", "list", "--env", "a", "--environment", "b"], ["events", "list", "--limit", "x"],
        ["events", "list", "--format", "csv"], ["events", "list", "--bogus", "1"], ["events", "list", "--=x"],
        ["events", "list", "--generate-completion-script", "bash"], ["events", "list", "--experimental-dump-help"],
    ]

    @Test(arguments: left) func leavesTheRestToArgumentParser(_ line: [String]) {
        #expect(QuickParse.command(line) == nil)
    }

    /// A default the quick path fills in is ArgumentParser's default.
    @Test func fillsInArgumentParsersDefaults() throws {
        let quick = try #require(QuickParse.command(["events", "list"]) as? EventsList)
        let parsed = try #require(try Shiplog.parseAsRoot(["events", "list"]) as? EventsList)
        #expect(quick.limit == parsed.limit)
        #expect(quick.format == parsed.format)
        #expect(quick.log.retryFor == parsed.log.retryFor)
        #expect(quick.env == nil && quick.log.db == nil)
    }
}

private func described(_ value: some Any) -> String {
    var text = ""
    dump(value, to: &text)
    return text
}
