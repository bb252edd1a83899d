"""What the site's tests share: the pages and what their charts must draw, the built site, the browser
(Debian's headless Chromium, driven by Playwright), a tab that records what a page reports and reads it,
axe-core's check, the text size of the charts as shown, and a page's weight."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from pipeline import ROOT
from pipeline.common.yamlfile import read_yaml

SCREENSHOTS = ROOT / "build" / "screenshots" if os.environ.get("KZ_SCREENSHOTS") == "1" else None
# Every page: those of the navigation bar, then one per region (portal/pages.yaml's `per: region`).
REGIONS = [tile["region_id"] for tile in read_yaml(ROOT / "portal" / "tiles.yaml")]
PAGES = [page["file"] for page in read_yaml(ROOT / "portal" / "pages.yaml") if "per" not in page] + [
    f"region/{region}.html" for region in sorted(REGIONS)
]
# The same pages in Russian and Kazakh (site/ru/, site/kk/).
TRANSLATED = [f"{lang}/{page}" for lang in ("ru", "kk") for page in PAGES]
# The marks each chart must draw (CSS selector inside its wide SVG file, charts/NAME.svg), and the SQL that
# counts them; NARROW: the selectors of the phone's drawings (charts/NAME.narrow.svg) where they differ.
MARKS = {
    "index.html": [
        ("seats", "g.role-mark.marks > *", "SELECT sum(seats_count) FROM chamber_seats"),
        ("national", "g.layer_0_marks > *", "SELECT count(*) FROM national_party_list_results"),
        ("national", "g.layer_1_marks > text", "SELECT count(*) FROM national_party_list_results"),  # the labels
    ],
    "regions.html": [
        ("turnout_map", "g.layer_0_marks > *", "SELECT count(*) FROM regions"),
        ("share_maps", "g.child_layer_0_marks > *", "SELECT count(*) FROM party_list_results"),
        ("turnout_change_map", "g.layer_0_marks > *", "SELECT count(*) FROM regions"),
    ],
    "turnout.html": [
        ("turnout_by_hour", "g.layer_0_marks", "SELECT count(DISTINCT region_id) FROM turnout_by_hour"),
        ("turnout_by_hour", "g.layer_1_layer_1_marks > *", "SELECT count(*) FROM national_turnout_by_hour"),
    ],
    "districts.html": [("districts", "g.layer_2_marks > *", "SELECT count(*) FROM district_races")],
    "polls.html": [
        ("opinion_polls", "g.role-mark.marks > *", "SELECT count(*) FROM opinion_polls"),
        ("exit_polls", "g.layer_1_marks > *", "SELECT count(*) FROM exit_polls"),
    ],
    "seats.html": [("seat_allocation", "g.layer_1_marks > *", "SELECT count(*) FROM seat_allocation")],
    "quality.html": [("grid_distances", "g.layer_0_marks > *", "SELECT 10")],
    "elections.html": [],
    "data.html": [],
}
# What the phone's drawings count instead, where it differs: the turnout change drawn on the 17 regions of 2021.
NARROW_SQL = {
    ("turnout_change_map", "g.layer_0_marks > *"): "SELECT count(*) FROM turnout_change WHERE area_id <> 'KZ' "
    "AND election_id = 'kz-majilis-2023-03-19' AND protocol_version = 'preliminary'",
}
NARROW = {
    ("share_maps", "g.child_layer_0_marks > *"): "g.layer_0_marks > *",  # one heat table, not a map per option
    ("share_maps", "g.child_layer_1_marks > *"): "g.layer_1_marks > *",
}
# Chromium as root, with no network of its own (background requests are refused on this machine).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _drawn_selectors() -> dict[str, list[str]]:
    """What the tests count and read in each chart's drawings."""
    out: dict[str, list[str]] = {}
    for marks in MARKS.values():
        for chart, selector, _ in marks:
            out.setdefault(chart, []).append(selector)
    for chart, selector in DRAWN_TEXT.values():
        out.setdefault(chart, []).append(selector)
    return out


# Texts read in a drawing: the tile maps' labels, the seat allocation's axis.
DRAWN_TEXT = {
    "tiles": ("turnout_map", "g.layer_1_marks > text"),
    "share_tiles": ("share_maps", "g.child_layer_1_marks > text"),
    "seat_axis": ("seat_allocation", "g.role-axis-label text"),
}
# What a test reads off a drawing: how many elements each selector finds, and their text (by line).
READ_DRAWING = """selectors => Object.fromEntries(Object.entries(selectors).map(([key, selector]) => {
  const found = [...document.querySelectorAll(selector)];
  return [key, {count: found.length, texts: found.map(e => {
    const lines = [...e.querySelectorAll("tspan")].map(t => t.textContent);
    return lines.length ? lines : [e.textContent];
  })}];
}))"""
# What a test reads off a page, in one call: its charts' images, figures and (with `withTables`) tables.
READ_PAGE = """withTables => {
  const all = selector => [...document.querySelectorAll(selector)];
  const text = selector => all(selector).map(e => e.textContent);
  return {
    charts: all("figure.chart").map(f => {
      const img = f.querySelector("img");
      return {name: f.id, alt: img.alt, caption: f.querySelector("figcaption").textContent,
              src: img.currentSrc, natural: img.naturalWidth,
              shown: img.getBoundingClientRect().width};
    }),
    images: all("img").length,
    images_without_alt: all("img:not([alt])").length,
    svgs: all("svg").length,
    duplicate_ids: all("[id]").map(e => e.id).filter((id, n, ids) => ids.indexOf(id) !== n),
    texts: {
      turnout: text("#turnout"),
      seats_total: text("#seats-total"),
      checks: text("#checks-summary"),
    },
    tables: !withTables ? [] : all("table").map(t => ({
      caption: t.caption ? t.caption.textContent : "",
      label: t.closest("[aria-label]") ? t.closest("[aria-label]").getAttribute("aria-label") : "",
      head: [...t.tHead.rows[0].cells].map(c => c.dataset.column || c.textContent),
      rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent)),
    })),
  };
}"""


WIDTHS = (390, 1280)  # a phone's screen, then a desktop's
# Once a window is widened, wait (frame by frame, 10 s at most) until every image shows the drawing its
# <picture> asks for at the new width (its first <source> whose media query matches, else its <img>'s
# own), loaded. What it shows is then read and compared with the drawing the width should have
# (expected_drawing), so a page that asks for the wrong one still fails.
SETTLE = """async () => {
  const asked = img => {
    const sources = img.parentElement.tagName === "PICTURE" ? [...img.parentElement.querySelectorAll("source")] : [];
    const source = sources.find(s => !s.media || matchMedia(s.media).matches);
    return new URL(source ? source.srcset.trim().split(/\\s+/)[0] : img.getAttribute("src"), document.baseURI).href;
  };
  const settled = () => [...document.images].every(img => img.complete && img.currentSrc === asked(img));
  for (let frame = 0; !settled(); frame++) {
    if (frame === 600) throw new Error("the images did not settle at the new width");
    await new Promise(done => requestAnimationFrame(done));
  }
  await new Promise(done => requestAnimationFrame(done));
}"""


class Tab:
    """One browser tab that records what each page it opens reports: console errors and warnings,
    uncaught exceptions, every request, failed requests and HTTP errors; then reads the page. With
    `axe_core`, axe-core is in every page it opens (an init script: compiled once a page, not sent); with
    `tables` (the default), the page's tables are read too."""

    def __init__(self, browser, width: int = 1280, axe_core: bool = False, tables: bool = True):
        self.tables = tables
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        if axe_core:
            self.context.add_init_script(AXE_SOURCE.read_text(encoding="utf-8"))
        self.page = self.context.new_page()
        self.seen: dict = {"console": [], "requests": [], "failed": [], "bad_status": []}
        self.page.on(
            "console", lambda m: m.type in ("error", "warning") and self._add("console", f"{m.type}: {m.text}")
        )
        self.page.on("pageerror", lambda e: self._add("console", f"page error: {e}"))
        self.page.on("request", lambda r: self._add("requests", r.url))
        self.page.on("requestfailed", lambda r: self._add("failed", f"{r.url}: {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self._add("bad_status", f"{r.url}: {r.status}"))

    def _add(self, key: str, value: str) -> None:
        self.seen[key].append(value)

    def close(self) -> None:
        self.context.close()

    def visit(self, base: str, name: str, screenshots: Path | None = None, accessibility: str = "") -> dict:
        """Open a page and read it; with `accessibility`, axe-core's check in that mode (see axe)."""
        self.seen = {"console": [], "requests": [], "failed": [], "bad_status": []}
        self.page.goto(base + name, wait_until="load")
        return self._read(base, name, screenshots, accessibility)

    def _read(self, base: str, name: str, screenshots: Path | None, accessibility: str) -> dict:
        seen = {key: list(values) for key, values in self.seen.items()} | self.page.evaluate(READ_PAGE, self.tables)
        seen |= {"base": base, "width": self.page.viewport_size["width"]}
        if accessibility:
            violations, ran = axe_run(self.page, accessibility)
            seen |= {"axe": violations, "axe_mode": accessibility, "axe_ran": ran}
        seen["scroll_width"] = self.page.evaluate("document.documentElement.scrollWidth")
        if screenshots:
            path = screenshots / f"{name.replace('/', '_').removesuffix('.html')}_{seen['width']}.jpeg"
            self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=80)
        return seen

    def visit_on_a_phone_then_a_desktop(
        self, base: str, name: str, accessibility: dict[int, str], screenshots: Path | None = None
    ) -> dict[int, dict]:
        """Open a page on a phone's screen and read it, then widen the window to a desktop's and read it
        again (each with axe-core's check in the mode `accessibility` gives for its width): what a page
        reports at each width, for the price of one load. The desktop's reading holds every request since
        the page was opened (the phone's drawings too: page_weight leaves them out)."""
        phone, desktop = WIDTHS
        self.page.goto("about:blank")  # (the page before would be narrowed, and fetch its phone's drawings)
        self.page.set_viewport_size({"width": phone, "height": 900})
        found = {phone: self.visit(base, name, screenshots, accessibility[phone])}
        self.page.set_viewport_size({"width": desktop, "height": 900})
        self.page.evaluate(SETTLE)
        found[desktop] = self._read(base, name, screenshots, accessibility[desktop]) | {"widened_from": found[phone]}
        return found


def table(seen: dict, caption_start: str) -> list[dict]:
    (table,) = [
        t for t in seen["tables"] if t["caption"].startswith(caption_start) or t["label"].startswith(caption_start)
    ]
    return [dict(zip(table["head"], row, strict=True)) for row in table["rows"]]


AXE_SERIOUS = ("serious", "critical")
# axe-core: the copy pinned with the locked package axe-playwright-python, used as is.
AXE_SOURCE = Path(importlib.util.find_spec("axe_playwright_python").origin).parent / "axe.min.js"


# The rules whose outcome a page's words and the markup of its language's file can change (its language,
# title, the names of links, buttons, images and summaries, lists and interactive elements a text may nest,
# scroll regions that longer words may make overflow, ids), each a serious or critical one: what axe-core
# checks on a Russian or Kazakh page, the English page's template with other words (every rule runs on that).
RULES_OF_WORDS = [
    "html-has-lang",
    "html-lang-valid",
    "valid-lang",
    "document-title",
    "link-name",
    "button-name",
    "image-alt",
    "svg-img-alt",
    "aria-valid-attr-value",
    "summary-name",
    "nested-interactive",
    "list",
    "listitem",
    "bypass",
    "scrollable-region-focusable",
    "duplicate-id-aria",
]


def axe(page, mode: str = "full") -> list[tuple[str, str, int]]:
    """axe-core's violations on the open page, serious and critical ones: (rule, impact, elements). axe-core
    is AXE_SOURCE, injected as is where a Tab's init script did not put it. `mode`: "full", every rule;
    "light", every rule but color-contrast, which is most of axe's time (1.45 of 1.8 s on the regions page)
    and depends on the stylesheet and the colours a template gives its text, not on the width, the words or
    the data; "words", RULES_OF_WORDS (about 0.05 s a page)."""
    return axe_run(page, mode)[0]


def axe_run(page, mode: str = "full") -> tuple[list[tuple[str, str, int]], set[str]]:
    """axe(page, mode), and the ids of the rules axe-core ran (passed, failed, incomplete, not applicable)."""
    if page.evaluate("typeof axe") == "undefined":
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    options = {
        "full": "{}",
        "light": "{rules: {'color-contrast': {enabled: false}}}",
        "words": f"{{runOnly: {{type: 'rule', values: {RULES_OF_WORDS}}}}}",
    }[mode]
    found = page.evaluate(
        f"async () => {{ const r = await axe.run(Object.assign({{resultTypes: ['violations']}}, {options})); "
        "return {violations: r.violations, ran: [r.passes, r.violations, r.incomplete, r.inapplicable]"
        ".flat().map(rule => rule.id)}; }"
    )
    violations = [(v["id"], v["impact"], len(v["nodes"])) for v in found["violations"] if v["impact"] in AXE_SERIOUS]
    return violations, set(found["ran"])


MIN_TEXT_PX = 11


def font_sizes(svg: Path) -> set[float]:
    return {float(size) for size in re.findall(r'font-size="([\d.]+)px"', svg.read_text(encoding="utf-8"))}


def drawing(seen: dict, chart: dict) -> str:
    """The drawing the browser chose for a chart of the page, as a path in the site."""
    return chart["src"].removeprefix(seen["base"])


def expected_drawing(page: str, chart: str, narrow: bool) -> str:
    """The drawing a page should show: its language's (ru/, kk/ or the site's top), wide or narrow."""
    lang = page.split("/")[0] + "/" if page.startswith(("ru/", "kk/")) else ""
    return f"{lang}charts/{chart}{'.narrow' if narrow else ''}.svg"


def smallest_text(seen: dict, site: Path) -> dict[str, float]:
    """Each chart's smallest text as the page shows it, in px: the smallest font size of the drawing the
    browser chose times the width it is shown at over its own."""
    return {
        chart["name"]: min(font_sizes(site / drawing(seen, chart))) * chart["shown"] / chart["natural"]
        for chart in seen["charts"]
    }


PAGE_BUDGET = 256 * 1024  # bytes a page asks for, everything included (docs/portal.md)


def page_weight(seen: dict, name: str, site: Path) -> int:
    """What a browser fetches for a page at the width it was read at (the page, the stylesheet, the sort
    script and the drawings of its charts that fit the screen; nothing else), summed from the files it
    requested. A reading after the window was widened: what was fetched on the phone, then on widening
    exactly the drawings the wider screen shows instead (the phone's reading checks the rest)."""
    drawings = {drawing(seen, c) for c in seen["charts"]}
    shown = {name, "style.css", "sort.js"} | drawings
    requested = [url.removeprefix(seen["base"]) for url in seen["requests"]]
    if "widened_from" in seen:
        phone = seen["widened_from"]
        widening = set(requested[len(phone["requests"]) :])
        assert widening == drawings - {drawing(phone, c) for c in phone["charts"]}, (name, widening)
    else:
        assert set(requested) == shown, name
    return sum((site / path).stat().st_size for path in shown)


def problems(seen: dict, name: str, site: Path) -> dict:
    """What is wrong with a page as read at its width (nothing: {}): what the browser reported (console
    errors, failed requests, HTTP errors), requests outside the site, axe-core's serious and critical
    violations, a page wider than the screen, a chart's drawing not the one for the width and the language,
    chart text under MIN_TEXT_PX as shown, more bytes than PAGE_BUDGET."""
    narrow = seen["width"] == WIDTHS[0]
    weight = page_weight(seen, name, site)
    found = {
        "reported": seen["console"] + seen["failed"] + seen["bad_status"],
        "outside the site": [url for url in seen["requests"] if not url.startswith(seen["base"])],
        "axe-core": seen["axe"],
        "scroll width": [] if seen["scroll_width"] == seen["width"] else [seen["scroll_width"]],
        "drawings": [
            drawing(seen, c) for c in seen["charts"] if drawing(seen, c) != expected_drawing(name, c["name"], narrow)
        ],
        "small text": {chart: round(px, 1) for chart, px in smallest_text(seen, site).items() if px < MIN_TEXT_PX},
        "weight": [weight] if weight > PAGE_BUDGET else [],
    }
    return {key: value for key, value in found.items() if value}
