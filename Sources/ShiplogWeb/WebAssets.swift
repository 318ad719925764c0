/// The stylesheet, script and icon the pages load, compiled into the binary: the web view
/// works without a CDN, a web font or any file next to the binary (air-gapped clusters).
public enum WebAssets {
    public struct Asset: Sendable {
        public var contentType: String
        public var body: String
        /// A strong validator of the body (FNV-1a, hex).
        public var etag: String
    }

    /// Asset name → asset, as served under `/assets/`.
    public static let all: [String: Asset] = [
        "shiplog.css": asset("text/css; charset=utf-8", stylesheet),
        "shiplog.js": asset("text/javascript; charset=utf-8", script),
        "icon.svg": asset("image/svg+xml", icon),
    ]

    /// Changes whenever an asset does: the pages add it to the assets' URLs.
    public static let version: String = String(fnv1a((stylesheet + script + icon).utf8).prefix(12))

    static func asset(_ type: String, _ body: String) -> Asset {
        Asset(contentType: type, body: body, etag: "\"" + fnv1a(body.utf8) + "\"")
    }

    static func fnv1a(_ bytes: String.UTF8View) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f5fbf"/><path d="M6 19h20l-3 6H9z" fill="#fff"/><path d="M15 6v11h-7z" fill="#fff"/><path d="M17 9v8h6z" fill="#cfe0ff"/></svg>

        """

    static let script = """
        // shiplog's web view: local times, the board's refresh, raw bodies on demand.
        (function () {
          "use strict";

          function localTimes(root) {
            root.querySelectorAll("time[data-local]").forEach(function (el) {
              var when = new Date(el.getAttribute("datetime"));
              if (isNaN(when.getTime())) return;
              el.textContent = when.toLocaleString(undefined, {
                year: "numeric", month: "short", day: "numeric",
                hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
              });
            });
          }

          function signIn() {
            window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search));
          }

          function startBoard(board) {
            var url = board.getAttribute("data-refresh");
            var interval = parseInt(board.getAttribute("data-interval"), 10) || 5000;
            var problem = document.getElementById("refresh-problem");
            var busy = false;
            function refresh() {
              if (busy || document.hidden) return;
              busy = true;
              fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
                .then(function (response) {
                  if (response.status === 401) { signIn(); return null; }
                  if (!response.ok) throw new Error("the server answered " + response.status);
                  return response.text();
                })
                .then(function (html) {
                  if (html === null) return;
                  // Keep a keyboard user's place: the same link again after the swap.
                  var active = document.activeElement;
                  var focused = active && active !== board && board.contains(active);
                  var href = focused ? active.getAttribute("href") : null;
                  board.innerHTML = html;
                  localTimes(board);
                  if (problem) { problem.hidden = true; problem.textContent = ""; }
                  if (focused) {
                    var again = Array.prototype.find.call(board.querySelectorAll("a[href]"), function (a) {
                      return a.getAttribute("href") === href;
                    });
                    (again || board).focus();
                  }
                })
                .catch(function (error) {
                  if (problem) {
                    problem.hidden = false;
                    problem.textContent = "Could not update the board (" + error.message + "); showing the data read before.";
                  }
                })
                .finally(function () { busy = false; });
            }
            window.setInterval(refresh, interval);
            document.addEventListener("visibilitychange", refresh);
          }

          function rawBodies(root) {
            root.querySelectorAll("details[data-raw-url]").forEach(function (details) {
              details.addEventListener("toggle", function () {
                if (!details.open || details.getAttribute("data-loaded")) return;
                details.setAttribute("data-loaded", "1");
                var pre = details.querySelector("pre.raw");
                fetch(details.getAttribute("data-raw-url"), { credentials: "same-origin" })
                  .then(function (response) {
                    if (!response.ok) throw new Error("the server answered " + response.status);
                    return response.arrayBuffer();
                  })
                  .then(function (bytes) {
                    pre.removeAttribute("data-placeholder");
                    pre.textContent = new TextDecoder("utf-8").decode(bytes);
                  })
                  .catch(function (error) {
                    pre.textContent = "Could not load the raw body: " + error.message;
                    details.removeAttribute("data-loaded");
                  });
              });
            });
          }

          document.addEventListener("DOMContentLoaded", function () {
            localTimes(document);
            rawBodies(document);
            var board = document.getElementById("board");
            if (board) startBoard(board);
          });
        })();

        """

    static let stylesheet = """
        :root {
          --bg: #ffffff; --fg: #1b1e23; --muted: #555b66; --line: #d5d9e0; --panel: #f4f6f9;
          --accent: #1f5fbf; --focus: #b35c00;
          --bad-bg: #fde7e7; --bad-fg: #8b1111; --warn-bg: #fff3d1; --warn-fg: #6a4300;
          --wait-bg: #e5efff; --wait-fg: #123f8c; --good-fg: #14622e;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
          line-height: 1.45; color: var(--fg); background: var(--bg);
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #121417; --fg: #e7e9ed; --muted: #a9b0bb; --line: #39404a; --panel: #1c2026;
            --accent: #8db6ff; --focus: #ffb35c;
            --bad-bg: #401818; --bad-fg: #ffc7c7; --warn-bg: #3a2c0b; --warn-fg: #ffe08a;
            --wait-bg: #14284a; --wait-fg: #c5dbff; --good-fg: #8fe0a8;
          }
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg); }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible, summary:focus-visible, main:focus-visible {
          outline: 3px solid var(--focus); outline-offset: 2px;
        }
        .skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
        .skip:focus { left: .5rem; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
        .brand { display: inline-flex; align-items: center; gap: .4rem; font-weight: 700; font-size: 1.1rem; color: var(--fg); text-decoration: none; }
        nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
        nav a { text-decoration: none; padding: .2rem 0; }
        nav a[aria-current="page"] { font-weight: 700; text-decoration: underline; text-underline-offset: .3em; }
        .signout { margin-left: auto; }
        main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
        footer { color: var(--muted); font-size: .85rem; padding: 1rem; border-top: 1px solid var(--line); }
        h1 { font-size: 1.5rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.2rem; margin: 0 0 .6rem; }
        h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
        button { font: inherit; padding: .35rem .9rem; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent); color: var(--bg); cursor: pointer; }
        select, input { font: inherit; padding: .3rem .4rem; border: 1px solid var(--muted); border-radius: 6px; background: var(--bg); color: var(--fg); max-width: 100%; }
        .filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .6rem 1rem; margin-bottom: 1rem; }
        .field { display: flex; flex-direction: column; gap: .15rem; }
        .field label { font-size: .85rem; color: var(--muted); }
        .read-at, .hint { color: var(--muted); font-size: .9rem; }
        .empty { padding: 1rem; background: var(--panel); border-radius: 8px; }
        .table-wrap { overflow-x: auto; }
        table.board { border-collapse: collapse; width: 100%; min-width: 36rem; }
        table.board caption { text-align: left; color: var(--muted); font-size: .9rem; padding-bottom: .3rem; }
        table.board th, table.board td { border: 1px solid var(--line); padding: .5rem .6rem; vertical-align: top; text-align: left; }
        table.board thead th { background: var(--panel); }
        table.board tbody th { font-weight: 600; white-space: nowrap; }
        .cell .version { font-weight: 700; font-size: 1.05rem; overflow-wrap: anywhere; }
        .cell .digest { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; color: var(--muted); }
        .cell .since, .cell .by { font-size: .85rem; color: var(--muted); overflow-wrap: anywhere; }
        .cell.is-degraded { background: var(--bad-bg); }
        .none { color: var(--muted); }
        .flag { margin: .35rem 0 0; padding: .15rem .4rem; border-radius: 4px; font-size: .85rem; font-weight: 600; border-left: 4px solid currentColor; }
        .flag .icon { font-weight: 400; }
        .flag.degraded, .flag.problem { background: var(--bad-bg); color: var(--bad-fg); }
        .flag.unverified { background: var(--warn-bg); color: var(--warn-fg); }
        .flag.pending { background: var(--wait-bg); color: var(--wait-fg); }
        .report-service { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
        dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: .8rem; margin: 0; }
        .figure { background: var(--panel); border-radius: 6px; padding: .6rem .7rem; }
        .figure dt { font-size: .85rem; color: var(--muted); }
        .figure dd { margin: .2rem 0 0; display: flex; flex-wrap: wrap; align-items: center; gap: .2rem .6rem; }
        .figure .value { font-size: 1.25rem; font-weight: 700; }
        .figure .detail { font-size: .8rem; color: var(--muted); flex-basis: 100%; }
        .level { font-size: .75rem; font-weight: 700; text-transform: uppercase; letter-spacing: .04em; padding: .05rem .4rem; border-radius: 999px; border: 1px solid currentColor; }
        .level-elite, .level-high { color: var(--good-fg); }
        .level-medium { color: var(--warn-fg); }
        .level-low { color: var(--bad-fg); }
        .level-none { color: var(--muted); font-weight: 400; }
        svg.trend { flex-basis: 100%; max-width: 100%; }
        svg.trend polyline { fill: none; stroke: var(--accent); stroke-width: 1.8; }
        svg.trend circle { fill: var(--accent); }
        svg.trend line.none { stroke: var(--line); stroke-dasharray: 3 3; }
        ol.events { list-style: none; margin: 0; padding: 0; }
        .event { border-bottom: 1px solid var(--line); padding: .5rem 0; }
        .event-line { display: flex; flex-wrap: wrap; gap: .2rem .8rem; align-items: baseline; }
        .event-line time { font-variant-numeric: tabular-nums; color: var(--muted); font-size: .9rem; }
        .type { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; padding: 0 .3rem; border-radius: 4px; background: var(--panel); }
        .type-deployment-failed, .type-deployment-rolled-back, .type-incident-opened { background: var(--bad-bg); color: var(--bad-fg); }
        .where { font-weight: 600; }
        .message { margin: .2rem 0; overflow-wrap: anywhere; }
        details summary { cursor: pointer; color: var(--accent); font-size: .9rem; }
        pre { background: var(--panel); padding: .6rem; border-radius: 6px; overflow: auto; max-height: 28rem; font-size: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
        .pages { display: flex; gap: 1.5rem; padding: 1rem 0; }
        form.signin { display: flex; flex-direction: column; gap: .8rem; max-width: 22rem; }
        @media (max-width: 40rem) {
          main { padding: .6rem; }
          table.board { min-width: 0; }
          table.board thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
          table.board, table.board tbody, table.board tr, table.board th, table.board td { display: block; width: 100%; }
          table.board caption { display: block; width: auto; }
          table.board tr { margin-bottom: 1rem; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
          table.board td, table.board th { border: 0; border-top: 1px solid var(--line); }
          table.board tbody th { background: var(--panel); border-top: 0; }
          table.board td::before { content: attr(data-label); display: block; font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
        }

        """
}
