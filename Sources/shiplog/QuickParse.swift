import ArgumentParser

/// The command lines people type by hand and scripts run most, parsed without ArgumentParser.
///
/// ArgumentParser finds a command's options by reflecting over every command type on each start,
/// and scans the binary's protocol conformances doing so: about a third of the whole process of
/// `events list` on a small query (docs/benchmarks.md, *The CLI's whole process*). A line is taken
/// here only when it is `events list` followed by long options it names, each once, each with a
/// plain value; anything else (help, a short flag, a typo, a value that looks like an option, a
/// repeated option) returns nil and goes to ArgumentParser, which parses it and explains mistakes.
/// What a line taken here builds is what ArgumentParser builds from it: ShiplogCLITests compare them.
enum QuickParse {
    static func command(_ arguments: [String]) -> (any AsyncParsableCommand)? {
        guard arguments.count >= 2, arguments[0] == "events", arguments[1] == "list" else { return nil }
        guard let values = longOptions(arguments.dropFirst(2), aliases: ["environment": "env"]) else { return nil }
        let known: Set = ["db", "server", "retry-for", "env", "service", "type", "since", "until", "limit", "format"]
        guard values.keys.allSatisfy(known.contains) else { return nil }
        var limit = EventsList.defaultLimit
        if let text = values["limit"] {
            guard let n = Int(text) else { return nil }
            limit = n
        }
        var format = EventsList.defaultFormat
        if let text = values["format"] {
            guard let f = EventsList.Format(rawValue: text) else { return nil }
            format = f
        }
        var log = LogOptions()
        log.db = values["db"]
        log.server = values["server"]
        log.retryFor = values["retry-for"] ?? LogOptions.defaultRetryFor
        var list = EventsList()
        list.log = log
        list.env = values["env"]
        list.service = values["service"]
        list.type = values["type"]
        list.since = values["since"]
        list.until = values["until"]
        list.limit = limit
        list.format = format
        return list
    }

    /// `--name value` and `--name=value` pairs by name (an alias under the name it stands for), or
    /// nil for anything else: a positional word, a short option, a flag without a value, an empty
    /// value or one starting with `-`, a name given twice.
    static func longOptions(_ words: ArraySlice<String>, aliases: [String: String]) -> [String: String]? {
        var values: [String: String] = [:]
        var rest = words
        while let word = rest.popFirst() {
            guard word.hasPrefix("--"), word.count > 2 else { return nil }
            var name = String(word.dropFirst(2))
            let value: String
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else {
                guard let next = rest.popFirst() else { return nil }
                value = next
            }
            name = aliases[name] ?? name
            guard !name.isEmpty, !value.isEmpty, !value.hasPrefix("-"), values[name] == nil else { return nil }
            values[name] = value
        }
        return values
    }
}
