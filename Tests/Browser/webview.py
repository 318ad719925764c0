#!/usr/bin/env python3
"""Drives headless Chromium (Debian's chromium and chromium-driver, through Selenium)
against a running shiplog and prints what a person would see, as one JSON object.

    webview.py SCENARIO BASE_URL [OPTIONS_JSON]

The Swift tests (Tests/ShiplogEndToEndTests/WebViewTests.swift) seed the log, run a
scenario and assert on the answer. Every answer also carries the URLs the browser
requested, its console errors and whether a JavaScript dialog ever opened."""

import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--window-size=1280,900", "--lang=en-US"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # An alert must stay open so that it can be seen, not be dismissed by the driver.
    options.set_capability("unhandledPromptBehavior", "ignore")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Run:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.driver = browser()
        self.requests = []
        self.console_errors = []
        self.dialogs = []

    def open(self, path):
        self.driver.get(self.base + path)
        self.collect()

    def collect(self):
        try:
            alert = self.driver.switch_to.alert
            self.dialogs.append(alert.text)
            alert.dismiss()
        except NoAlertPresentException:
            pass
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
        for entry in self.driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                self.console_errors.append(entry.get("message", ""))

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, condition, timeout=20):
        WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(lambda d: condition())

    def screenshot(self, path, width, height):
        self.driver.set_window_size(width, height)
        time.sleep(0.3)
        full = self.js("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
        self.driver.set_window_size(width, min(max(height, full + 120), 2400))
        time.sleep(0.3)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.driver.save_screenshot(path)
        self.driver.set_window_size(1280, 900)

    def finish(self, answer):
        self.collect()
        answer["requests"] = self.requests
        answer["consoleErrors"] = self.console_errors
        answer["dialogs"] = self.dialogs
        answer["url"] = self.driver.current_url
        self.driver.quit()
        print(json.dumps(answer))


READ_BOARD = """
const out = {};
document.querySelectorAll('#board tr[data-service]').forEach(function (row) {
  const cells = {};
  row.querySelectorAll('td[data-environment]').forEach(function (td) {
    const pending = td.querySelector('.flag.pending');
    cells[td.dataset.environment] = {
      version: td.dataset.version || null,
      text: td.innerText,
      degraded: td.classList.contains('is-degraded') && !!td.querySelector('.flag.degraded'),
      unverified: td.classList.contains('is-unverified') && !!td.querySelector('.flag.unverified'),
      pending: pending ? pending.innerText : null,
      waitingSeconds: pending ? Number(pending.dataset.waitingSeconds) : null
    };
  });
  out[row.dataset.service] = cells;
});
return out;
"""

READ_REPORT = """
const out = {};
document.querySelectorAll('section.report-service').forEach(function (section) {
  const figures = {};
  section.querySelectorAll('.figure').forEach(function (f) {
    const link = f.querySelector('a.value');
    figures[f.dataset.figure] = {
      value: f.dataset.value, level: f.dataset.level || null,
      href: link ? link.getAttribute('href') : null,
      trend: !!f.querySelector('svg.trend')
    };
  });
  out[section.dataset.service] = figures;
});
return out;
"""


def post(base, body, token=None):
    request = urllib.request.Request(base + "/api/v1/events", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def board(run, options):
    run.open("/")
    answer = {"title": run.driver.title, "board": run.js(READ_BOARD),
              "readAt": run.js("const t = document.querySelector('.read-at time'); return t ? t.getAttribute('datetime') : null")}
    shots = options.get("screenshots")
    if shots:
        run.screenshot(os.path.join(shots, "board-desktop.png"), 1280, 700)
        run.screenshot(os.path.join(shots, "board-phone.png"), 390, 844)
    if "post" in options:
        run.js("window.__shiplogNoReload = true;")
        first_read = answer["readAt"]
        post(run.base, options["post"])
        service, environment, version = options["expect"]
        try:
            run.wait(lambda: (run.js(READ_BOARD).get(service, {}).get(environment, {}) or {}).get("version") == version)
            answer["updated"] = True
        except TimeoutException:
            answer["updated"] = False
        answer["reloaded"] = run.js("return window.__shiplogNoReload !== true")
        answer["readAtChanged"] = run.js("return document.querySelector('.read-at time').getAttribute('datetime')") != first_read
        answer["after"] = run.js(READ_BOARD)
    if options.get("filter"):
        Select(run.driver.find_element(By.ID, "service")).select_by_value(options["filter"])
        run.driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        run.wait(lambda: "service=" in run.driver.current_url)
        answer["filtered"] = sorted(run.js(READ_BOARD).keys())
    return answer


def report(run, options):
    run.open("/report?environment=" + options.get("environment", "production"))
    answer = {"initial": run.js(READ_REPORT),
              "window": Select(run.driver.find_element(By.ID, "window")).first_selected_option.get_attribute("value")}
    shots = options.get("screenshots")
    if shots:
        run.screenshot(os.path.join(shots, "report-desktop.png"), 1280, 700)
        run.screenshot(os.path.join(shots, "report-phone.png"), 390, 844)
    Select(run.driver.find_element(By.ID, "window")).select_by_value("7d")
    run.driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
    run.wait(lambda: "window=7d" in run.driver.current_url)
    run.collect()
    answer["sevenDays"] = run.js(READ_REPORT)
    # The first explanation link, followed as a person would.
    href = next((f["href"] for s in answer["initial"].values() for f in s.values() if f["href"]), None)
    if href:
        run.open(href)
        answer["explanation"] = json.loads(run.js("return document.body.innerText"))
    return answer


def history(run, options):
    path = options.get("path", "/history?limit=3")
    seen = []
    pages = 0
    run.open(path)
    while True:
        pages += 1
        seen += run.js("return Array.from(document.querySelectorAll('li.event')).map(e => Number(e.dataset.sequence))")
        older = run.driver.find_elements(By.CSS_SELECTOR, "nav.pages a[rel=next]")
        if not older or pages > 100:
            break
        older[0].click()
        run.collect()
    answer = {"sequences": seen, "pages": pages}
    raw_of = options.get("rawOf")
    if raw_of is not None:
        run.open("/history?limit=1000")
        item = run.driver.find_element(By.CSS_SELECTOR, "li.event[data-sequence='%d']" % raw_of)
        item.find_element(By.TAG_NAME, "summary").click()
        pre = item.find_element(By.CSS_SELECTOR, "pre.raw")
        run.wait(lambda: pre.get_attribute("data-placeholder") is None)
        answer["raw"] = run.js("return arguments[0].textContent", pre)
        answer["json"] = run.js("return arguments[0].querySelector('pre.json').textContent", item)
        answer["links"] = run.js("return Array.from(arguments[0].querySelectorAll('a.link')).map(a => a.href)", item)
    return answer


def hostile(run, options):
    """Every page with attacker-controlled text in it: what the DOM holds afterwards."""
    answer = {"pages": {}}
    for path in ("/", "/report", "/history?limit=1000"):
        run.open(path)
        for detail in run.driver.find_elements(By.CSS_SELECTOR, "details.event-details"):
            detail.find_element(By.TAG_NAME, "summary").click()
        if path.startswith("/history"):
            run.wait(lambda: run.js("return document.querySelectorAll('pre.raw[data-placeholder]').length") == 0)
        time.sleep(0.5)
        run.collect()
        answer["pages"][path] = {
            "injectedElements": run.js(
                "return document.querySelectorAll('img[src=\"x\"], img[onerror], script:not([src]), [onerror], [onclick], b.injected, iframe').length"),
            "scripts": run.js("return Array.from(document.scripts).map(s => s.getAttribute('src'))"),
            "text": run.js("return document.body.innerText"),
            "links": run.js("return Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))"),
            "title": run.driver.title,
        }
    return answer


def signin(run, options):
    answer = {}
    run.open("/")
    answer["withoutCookie"] = {"url": run.driver.current_url, "text": run.js("return document.body.innerText"),
                               "html": run.driver.page_source}
    run.open("/history")
    answer["historyWithoutCookie"] = {"url": run.driver.current_url, "text": run.js("return document.body.innerText")}
    field = run.driver.find_element(By.ID, "token")
    field.send_keys("not-the-token")
    run.driver.find_element(By.CSS_SELECTOR, "form.signin button").click()
    run.collect()
    answer["wrongToken"] = {"url": run.driver.current_url, "text": run.js("return document.body.innerText")}
    run.driver.find_element(By.ID, "token").send_keys(options["token"])
    run.driver.find_element(By.CSS_SELECTOR, "form.signin button").click()
    run.wait(lambda: "/signin" not in run.driver.current_url)
    run.collect()
    answer["withCookie"] = {"url": run.driver.current_url, "text": run.js("return document.body.innerText"),
                            "scriptSeesCookie": run.js("return document.cookie")}
    cookies = run.driver.get_cookies()
    answer["cookies"] = [{k: c.get(k) for k in ("name", "httpOnly", "sameSite", "secure", "path")} for c in cookies]
    # The board keeps itself up to date with the cookie alone.
    time.sleep(float(options.get("refreshWait", 2.5)))
    run.collect()
    answer["afterRefresh"] = run.js("return document.body.innerText")
    run.driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    run.collect()
    run.open("/")
    answer["afterSignOut"] = {"url": run.driver.current_url, "text": run.js("return document.body.innerText")}
    return answer


# The lowest WCAG contrast ratio of any visible text on the page against the background it
# is drawn on (the first opaque background up the tree), with the element that has it.
CONTRAST = """
function rgb(c) { const m = c.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; }
function lum(c) { return [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
  .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0); }
function background(e) { for (; e; e = e.parentElement) { const b = rgb(getComputedStyle(e).backgroundColor); if (b.a > 0.5) return b; }
  return {r: 255, g: 255, b: 255, a: 1}; }
let worst = {ratio: 99, text: null, color: null, background: null, scheme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'};
for (const e of document.body.querySelectorAll('*')) {
  const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !e.getClientRects().length) continue;
  const s = getComputedStyle(e);
  if (s.visibility === 'hidden' || s.clip === 'rect(0px, 0px, 0px, 0px)' || parseFloat(s.width) <= 1) continue;
  const fg = rgb(s.color), bg = background(e);
  const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  if (ratio < worst.ratio) worst = {ratio: ratio, text: e.textContent.trim().slice(0, 40), color: s.color, background: getComputedStyle(e).backgroundColor, scheme: worst.scheme};
}
worst.pageBackground = getComputedStyle(document.body).backgroundColor;
return worst;
"""


def keyboard(run, options):
    """Tab through the board: what receives focus, and whether the focus can be seen."""
    run.open("/")
    focused = []
    body = run.driver.find_element(By.TAG_NAME, "body")
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.action_chains import ActionChains
    for _ in range(30):
        ActionChains(run.driver).send_keys(Keys.TAB).perform()
        if run.js("return document.activeElement === document.body"):
            break  # past the last focusable element
        focused.append(run.js("""
            const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName, text: (e.innerText || e.value || '').trim().slice(0, 40),
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0};"""))
    # Focus a link in the board, wait for two refreshes: the focus stays on the same link.
    href = run.js("""const a = document.querySelector('#board tbody a'); a.focus(); window.__focusedBefore = a;
        return a.getAttribute('href')""")
    read_at = run.js("return document.querySelector('#board .read-at').textContent")
    time.sleep(2.5)
    kept = run.js("""const e = document.activeElement;
        return {tag: e.tagName, href: e.getAttribute('href'), fresh: e !== window.__focusedBefore}""")
    kept["readAtChanged"] = run.js("return document.querySelector('#board .read-at').textContent") != read_at
    kept["sameLink"] = kept["href"] == href
    contrast = {}
    for scheme in ("light", "dark"):
        run.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        for path in ("/", "/report", "/history"):
            run.open(path)
            contrast[scheme + " " + path] = run.js(CONTRAST)
    run.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    run.open("/")
    landmarks = run.js("return ['header','nav','main','footer'].map(t => document.querySelectorAll(t).length)")
    labels = run.js("""return Array.from(document.querySelectorAll('select, input:not([type=hidden])'))
        .every(e => e.id && document.querySelector('label[for="' + e.id + '"]'))""")
    return {"focused": focused, "afterRefresh": kept, "contrast": contrast, "landmarks": landmarks, "labelled": labels, "lang": run.js("return document.documentElement.lang")}


SCENARIOS = {"board": board, "report": report, "history": history, "hostile": hostile, "signin": signin,
             "keyboard": keyboard}

if __name__ == "__main__":
    scenario, base = sys.argv[1], sys.argv[2]
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    run = Run(base)
    try:
        result = SCENARIOS[scenario](run, options)
    except Exception as error:  # the Swift test prints this and fails
        run.collect()
        print(json.dumps({"error": "%s: %s" % (type(error).__name__, error), "url": run.driver.current_url,
                          "page": run.driver.page_source[:4000]}))
        run.driver.quit()
        sys.exit(1)
    run.finish(result)
