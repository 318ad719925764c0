import Mustache

/// The pages' Mustache templates, compiled into the binary (the web view needs no files at
/// run time). `{{name}}` escapes HTML; `{{{name}}}` is used only for HTML these templates
/// rendered themselves.
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in sources {
            // The templates are constants of this file; a mistake in one fails every page test.
            try! library.register(text, named: name)
        }
        return library
    }()

    static func render(_ name: String, _ object: Any) -> String {
        library.render(object, withTemplate: name) ?? ""
    }

    static let sources: [(String, String)] = [
        ("layout", layout), ("board", board), ("boardCells", boardCells), ("report", report),
        ("history", history), ("signin", signin), ("message", message), ("sparkline", sparkline),
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>{{title}} · shiplog</title>
        <link rel="stylesheet" href="/assets/shiplog.css?v={{assetVersion}}">
        <link rel="icon" href="/assets/icon.svg?v={{assetVersion}}" type="image/svg+xml">
        <script src="/assets/shiplog.js?v={{assetVersion}}" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
        <a class="brand" href="/"><img src="/assets/icon.svg?v={{assetVersion}}" alt="" width="24" height="24"> shiplog</a>
        <nav aria-label="Main">
        <ul>
        {{#navigation}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>
        {{/navigation}}
        </ul>
        </nav>
        {{#signedIn}}<form class="signout" method="post" action="/signout"><button type="submit">Sign out</button></form>{{/signedIn}}
        </header>
        <main id="main" tabindex="-1">
        {{{main}}}
        </main>
        <footer><p>shiplog {{version}} · read-only view of the event log</p></footer>
        </body>
        </html>

        """

    static let board = """
        <h1>Promotions</h1>
        <form class="filters" method="get" action="/">
        <div class="field">
        <label for="service">Service</label>
        <select id="service" name="service">
        <option value="">All services</option>
        {{#serviceOptions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>
        {{/serviceOptions}}
        </select>
        </div>
        <button type="submit">Show</button>
        </form>
        <div id="board" tabindex="-1" data-refresh="{{refreshURL}}" data-interval="{{refreshMilliseconds}}">
        {{{cells}}}
        </div>
        <p id="refresh-problem" class="flag problem" role="status" hidden></p>

        """

    static let boardCells = """
        <p class="read-at">Data read at <time datetime="{{readAt.iso}}" title="{{readAt.utc}}" data-local>{{readAt.utc}}</time> · updates every {{refreshSeconds}} s</p>
        {{#empty}}<p class="empty">No deployments recorded{{#filtered}} for this service{{/filtered}} yet.</p>{{/empty}}
        {{^empty}}
        <div class="table-wrap">
        <table class="board">
        <caption>Live version of each service in each pipeline environment</caption>
        <thead><tr><th scope="col">Service</th>{{#environments}}<th scope="col">{{.}}</th>{{/environments}}</tr></thead>
        <tbody>
        {{#rows}}<tr data-service="{{service}}">
        <th scope="row"><a href="{{historyURL}}">{{service}}</a></th>
        {{#cells}}<td class="cell{{#degraded}} is-degraded{{/degraded}}{{#unverified}} is-unverified{{/unverified}}{{#pending}} is-pending{{/pending}}" data-environment="{{environment}}" data-label="{{environment}}"{{#version}} data-version="{{version}}"{{/version}}>
        {{#deployed}}
        <div class="version"><a href="{{historyURL}}" title="History of {{service}} in {{environment}}">{{versionText}}</a></div>
        {{#digest}}<div class="digest" title="{{artifact}}"><span class="visually-hidden">digest </span>{{digest}}</div>{{/digest}}
        {{#since}}<div class="since">since <time datetime="{{iso}}" title="{{utc}}" data-local>{{utc}}</time></div>{{/since}}
        {{#deployedBy}}<div class="by">by {{deployedBy}}</div>{{/deployedBy}}
        {{/deployed}}
        {{^deployed}}<div class="none"><span aria-hidden="true">—</span><span class="visually-hidden">nothing live</span></div>{{/deployed}}
        {{#degraded}}<p class="flag degraded"><span class="icon" aria-hidden="true">✖</span> Degraded{{#incidentText}} · {{incidentText}}{{/incidentText}}</p>{{/degraded}}
        {{#unverified}}<p class="flag unverified"><span class="icon" aria-hidden="true">⚠</span> Unverified: not in {{previousEnvironment}} first</p>{{/unverified}}
        {{#pending}}<p class="flag pending" data-waiting-seconds="{{waitingSeconds}}"><span class="icon" aria-hidden="true">◷</span> Pending: {{pendingVersion}} from {{pendingFrom}}, waiting {{waitingText}}</p>{{/pending}}
        </td>
        {{/cells}}
        </tr>
        {{/rows}}
        </tbody>
        </table>
        </div>
        {{/empty}}

        """

    /// A trend as inline SVG: a dot for a lone value, a line for a run, a flat dashed line
    /// when the window has no value at all.
    static let sparkline = """
        <svg class="trend" viewBox="0 0 {{width}} {{height}}" width="{{width}}" height="{{height}}" role="img" aria-label="{{description}}"><title>{{description}}</title>{{#dots}}<circle cx="{{x}}" cy="{{y}}" r="2"/>{{/dots}}{{#lines}}<polyline points="{{.}}"/>{{/lines}}{{#baseline}}<line class="none" x1="{{x1}}" y1="{{y}}" x2="{{x2}}" y2="{{y}}"/>{{/baseline}}</svg>
        """

    static let report = """
        <h1>DORA report</h1>
        <form class="filters" method="get" action="/report">
        <div class="field">
        <label for="environment">Environment</label>
        <select id="environment" name="environment">
        {{#environmentOptions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>
        {{/environmentOptions}}
        </select>
        </div>
        <div class="field">
        <label for="window">Window</label>
        <select id="window" name="window">
        {{#windowOptions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{label}}</option>
        {{/windowOptions}}
        </select>
        </div>
        <button type="submit">Show</button>
        </form>
        <p class="read-at">{{environment}}, the last {{windowLabel}}, read at <time datetime="{{readAt.iso}}" title="{{readAt.utc}}" data-local>{{readAt.utc}}</time>. Each figure links to the events behind it; each trend shows the window in {{buckets}} equal spans, oldest on the left.</p>
        {{#empty}}<p class="empty">No deployments recorded in {{environment}} yet.</p>{{/empty}}
        {{#services}}
        <section class="report-service" data-service="{{service}}" aria-labelledby="report-{{anchor}}">
        <h2 id="report-{{anchor}}">{{service}}</h2>
        <dl class="figures">
        {{#figures}}
        <div class="figure" data-figure="{{key}}" data-value="{{value}}"{{#level}} data-level="{{level}}"{{/level}}>
        <dt>{{name}}</dt>
        <dd><a class="value" href="{{explainURL}}">{{text}}<span class="visually-hidden"> — explain {{name}}</span></a>
        {{#level}}<span class="level level-{{level}}">{{levelText}}</span>{{/level}}
        {{^level}}<span class="level level-none">no level</span>{{/level}}
        {{#detail}}<span class="detail">{{detail}}</span>{{/detail}}
        {{#trend}}{{> sparkline}}{{/trend}}
        </dd>
        </div>
        {{/figures}}
        </dl>
        </section>
        {{/services}}

        """

    static let history = """
        <h1>History</h1>
        <form class="filters" method="get" action="/history">
        <div class="field"><label for="h-environment">Environment</label><input id="h-environment" name="environment" value="{{filters.environment}}" list="environments" autocomplete="off"></div>
        <div class="field"><label for="h-service">Service</label><input id="h-service" name="service" value="{{filters.service}}" list="services" autocomplete="off"></div>
        <div class="field"><label for="h-type">Type</label>
        <select id="h-type" name="type"><option value="">Any type</option>
        {{#typeOptions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>
        {{/typeOptions}}
        </select></div>
        <div class="field"><label for="h-since">Since</label><input id="h-since" name="since" value="{{filters.since}}" placeholder="7d or 2026-01-31T00:00:00Z"></div>
        <div class="field"><label for="h-until">Until</label><input id="h-until" name="until" value="{{filters.until}}" placeholder="RFC 3339"></div>
        <div class="field"><label for="h-limit">Per page</label><input id="h-limit" name="limit" value="{{filters.limit}}" inputmode="numeric" size="4"></div>
        <button type="submit">Show</button>
        </form>
        <datalist id="environments">{{#environmentNames}}<option value="{{.}}">{{/environmentNames}}</datalist>
        <datalist id="services">{{#serviceNames}}<option value="{{.}}">{{/serviceNames}}</datalist>
        {{#problem}}<p class="flag problem" role="alert"><span class="icon" aria-hidden="true">✖</span> {{problem}}</p>{{/problem}}
        {{^problem}}
        {{#empty}}<p class="empty">No events match.</p>{{/empty}}
        <ol class="events">
        {{#events}}
        <li class="event" data-sequence="{{sequence}}" data-type="{{type}}">
        <div class="event-line">
        <time datetime="{{time.iso}}" title="{{time.utc}}" data-local>{{time.utc}}</time>
        <span class="type type-{{typeClass}}">{{type}}</span>
        <span class="where">{{service}}{{#environment}} → {{environment}}{{/environment}}</span>
        {{#version}}<span class="version">{{version}}</span>{{/version}}
        {{#actor}}<span class="by">by {{actor}}</span>{{/actor}}
        {{#link}}<a class="link" href="{{link}}" rel="noopener noreferrer nofollow">link</a>{{/link}}
        </div>
        {{#message}}<p class="message">{{message}}</p>{{/message}}
        <details class="event-details" data-raw-url="/api/v1/events/{{sequence}}/raw">
        <summary>Event {{sequence}}: full JSON and stored raw body</summary>
        <h3>Event (as stored, received {{receivedAt}} via {{format}})</h3>
        <pre class="json">{{json}}</pre>
        <h3>Stored raw body</h3>
        <pre class="raw" data-placeholder>Opening this section loads the body; or <a href="/api/v1/events/{{sequence}}/raw">open it as text</a>.</pre>
        </details>
        </li>
        {{/events}}
        </ol>
        <nav class="pages" aria-label="Pages">
        {{#firstURL}}<a href="{{firstURL}}">Newest</a>{{/firstURL}}
        {{#nextURL}}<a href="{{nextURL}}" rel="next">Older events</a>{{/nextURL}}
        {{^nextURL}}<span>No older events.</span>{{/nextURL}}
        </nav>
        {{/problem}}

        """

    static let signin = """
        <h1>Sign in</h1>
        <p>This shiplog needs its read token to show its data.</p>
        {{#problem}}<p class="flag problem" role="alert"><span class="icon" aria-hidden="true">✖</span> {{problem}}</p>{{/problem}}
        <form class="signin" method="post" action="/signin">
        <input type="hidden" name="next" value="{{next}}">
        <div class="field"><label for="token">Read token</label><input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
        <button type="submit">Sign in</button>
        </form>
        <p class="hint">The token is kept in a cookie that scripts on the page cannot read; scripts and tools send <code>Authorization: Bearer</code> instead.</p>

        """

    static let message = """
        <h1>{{heading}}</h1>
        <p class="flag problem" role="alert">{{text}}</p>
        <p><a href="/">Back to the promotions board</a></p>

        """
}
