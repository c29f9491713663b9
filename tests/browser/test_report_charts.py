"""The pairing report's charts as a leader sees them (issue 18), at 1440 × 900 and on a
phone at 390 × 844: every piece of chart text drawn whole (no "…", nothing running off the
chart's edge), in the theme's colours at 4.5:1 or more, with the scores beside the dots.

Streamlit draws Vega charts on a canvas, so the text is read as the browser draws it: an
init script records every `fillText` call (the text, its colour and its extent on the
canvas after the canvas's transform) per canvas, since the canvas was last cleared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_kit import (
    SCREENSHOTS,
    assert_no_raw_errors,
    drawn_charts,
    open_page,
    sign_in,
    wait_for_app,
)
from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RECORD_TEXT = """(() => {
    const drawn = new Map();  // canvas -> texts drawn since it was last cleared
    window.__chartCanvases = drawn;
    const proto = CanvasRenderingContext2D.prototype;
    const clear = proto.clearRect;
    proto.clearRect = function (x, y, w, h) {
        const m = this.getTransform();
        if (w * m.a >= this.canvas.width - 1 && h * m.d >= this.canvas.height - 1) {
            drawn.set(this.canvas, []);
        }
        return clear.apply(this, arguments);
    };
    const fill = proto.fillText;
    proto.fillText = function (text, x, y) {
        const metrics = this.measureText(String(text));
        const w = metrics.width;
        const align = this.textAlign;
        const left = align === 'center' ? x - w / 2
            : (align === 'right' || align === 'end') ? x - w : x;
        // The glyphs' box (ascent and descent from the baseline), turned as the canvas is.
        const top = y - metrics.actualBoundingBoxAscent;
        const bottom = y + metrics.actualBoundingBoxDescent;
        const m = this.getTransform();
        const corners = [[left, top], [left + w, top], [left, bottom], [left + w, bottom]];
        const xs = corners.map(([px, py]) => m.a * px + m.c * py + m.e);
        const ys = corners.map(([px, py]) => m.b * px + m.d * py + m.f);
        if (!drawn.has(this.canvas)) drawn.set(this.canvas, []);
        drawn.get(this.canvas).push({
            text: String(text), colour: String(this.fillStyle), alpha: this.globalAlpha,
            left: Math.min(...xs), right: Math.max(...xs), width: this.canvas.width,
            top: Math.min(...ys), bottom: Math.max(...ys),
        });
        return fill.apply(this, arguments);
    };
})();"""

# The text of every visible chart: a canvas's as last drawn, an SVG's from its text
# elements (each line of a wrapped label is a tspan), as the browser lays it out.
READ_TEXT = """() => [...document.querySelectorAll('.vega-embed')]
    .filter(e => e.offsetParent !== null)
    .map(e => {
        const canvas = e.querySelector('canvas');
        if (canvas) return window.__chartCanvases.get(canvas) || [];
        const svg = e.querySelector('svg');
        if (!svg) return [];
        const box = svg.getBoundingClientRect();
        const hex = c => '#' + c.match(/\\d+/g).slice(0, 3)
            .map(n => Number(n).toString(16).padStart(2, '0')).join('');
        return [...svg.querySelectorAll('text')].flatMap(t => {
            const lines = t.querySelectorAll('tspan').length
                ? [...t.querySelectorAll('tspan')] : [t];
            const style = getComputedStyle(t);
            let alpha = Number(style.fillOpacity) * Number(style.opacity);
            for (let g = t.parentElement; g && g !== svg; g = g.parentElement) {
                alpha *= Number(getComputedStyle(g).opacity);
            }
            // A line's box is the font's full height: narrowed to its glyphs (as on a
            // canvas) by measuring the same text in the same font, unless it is turned.
            const ctm = t.getCTM();
            const turned = ctm && Math.abs(ctm.b) > 1e-6;
            const ruler = document.createElement('canvas').getContext('2d');
            ruler.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} `
                + style.fontFamily;
            return lines.map(l => {
                const r = l.getBoundingClientRect();
                let top = r.top - box.top, bottom = r.bottom - box.top;
                const m = ruler.measureText(l.textContent);
                const font = m.fontBoundingBoxAscent + m.fontBoundingBoxDescent;
                if (!turned && font > 0 && r.height > 0) {
                    const scale = r.height / font;
                    const baseline = bottom - m.fontBoundingBoxDescent * scale;
                    top = baseline - m.actualBoundingBoxAscent * scale;
                    bottom = baseline + m.actualBoundingBoxDescent * scale;
                }
                return {text: l.textContent, colour: hex(style.fill), alpha,
                        left: r.left - box.left, right: r.right - box.left, width: box.width,
                        top, bottom, shown: r.width > 0};
            });
        });
    })"""


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


BACKGROUND = "#faf9f6"


@pytest.fixture(params=[(1440, 900), (390, 844)], ids=["desktop", "phone"])
def report_page(request, served, browser: Browser) -> Iterator[tuple[Page, str]]:
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(RECORD_TEXT)
    page = context.new_page()
    sign_in(page, served, "facilitator")
    if width < 600:  # the phone: the menu is behind its button
        page.get_by_test_id("stExpandSidebarButton").click()
    open_page(page, "Pairing report")
    if width < 600:
        page.get_by_test_id("stSidebarCollapseButton").get_by_role("button").click()
        wait_for_app(page)
    yield page, f"{width}x{height}"
    context.close()


def check_text(page: Page) -> list[str]:
    """Every chart's drawn text: whole, inside its canvas, readable, and clear of every other
    text of its chart (no label printed over another). Returns it all."""
    canvases = page.evaluate(READ_TEXT)
    assert canvases and all(canvases), "a visible chart drew no text"
    everything = []
    for texts in canvases:
        seen: list[dict] = []
        for t in texts:
            if t["colour"].lower() == BACKGROUND:
                continue  # the halo under a value, in the background's colour
            number = t["text"].replace("−", "").replace("+", "").replace(".", "").isdigit()
            if number and t["alpha"] == 0:
                continue  # a tick of a number scale Vega thinned out: the others stand
            if not t["text"].strip():
                continue  # nothing drawn
            everything.append(t["text"])
            for other in seen:
                assert not overlapping(t, other), f"printed over each other: {t}, {other}"
            seen.append(t)
            assert "…" not in t["text"], f"cut short: {t['text']!r}"
            assert t["left"] >= -2 and t["right"] <= t["width"] + 2, f"off the chart: {t}"
            assert t["colour"].startswith("#"), t
            assert abs(t["alpha"] - 1) < 1e-6, t
            assert contrast(t["colour"], BACKGROUND) >= 4.5, t
    return everything


def overlapping(a: dict, b: dict, slack: float = 0.5) -> bool:
    """Whether two drawn texts' boxes share more than `slack` px both across and down."""
    across = min(a["right"], b["right"]) - max(a["left"], b["left"])
    down = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return across > slack and down > slack


def test_report_charts_draw_every_label_whole(report_page: tuple[Page, str]) -> None:
    page, size = report_page
    drawn_charts(page, at_least=3)
    page.wait_for_timeout(500)  # the last resize of each chart to its column
    scores = check_text(page)
    # Dimension names and the scores beside the dots (one decimal).
    assert "Dimension" in scores and "Who rated" in scores
    assert "Respect and empathy" in scores or any(t.startswith("Respect and") for t in scores)
    assert any(len(t) == 3 and t[1] == "." and t.replace(".", "").isdigit() for t in scores)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shoot(page, f"report-scores-{size}")
    for tab in ("Gaps", "Items", "Mirror", "Change"):
        page.get_by_role("tab", name=tab).click()
        drawn_charts(page, at_least=1)
        page.wait_for_timeout(500)
        check_text(page)
        if tab == "Gaps":  # the Johari window in words first, the scatter behind a click
            panel = page.get_by_role("tabpanel").filter(visible=True)
            for heading in ("Open strengths", "Blind spots", "Hidden strengths"):
                assert panel.get_by_text(heading, exact=True).first.is_visible()
            scatters = panel.get_by_text("The same as a Johari window")
            assert scatters.count() == 3  # the councillor, the officer, the pair
            for i in range(scatters.count()):
                scatters.nth(i).click()
            drawn_charts(page, at_least=6)
            page.wait_for_timeout(500)
            check_text(page)  # the scatters' names not printed over each other
            if size == "390x844":
                shoot_phone_report(page)
        shoot(page, f"report-{tab.lower()}-{size}")
    assert_no_raw_errors(page)


def shoot_phone_report(page: Page) -> None:
    """test-artifacts/screenshots/report-phone.png: the councillor's gaps on a phone, from
    the 2×2 in words to the Johari scatter under it (`make screenshots` copies it to docs/)."""
    size = page.viewport_size
    assert size
    charts = page.locator(".vega-embed").filter(visible=True)
    page.set_viewport_size({"width": size["width"], "height": 4000})
    wait_for_app(page)
    page.wait_for_timeout(500)
    # From the councillor's heading, scrolled to the top, to the end of their scatter.
    heading = page.get_by_role("tabpanel").filter(visible=True).locator("h3").first
    # (then back a little: the app's bar stays over the top of the page)
    heading.evaluate(
        """e => {
            e.scrollIntoView({block: 'start'});
            let box = e.parentElement;
            while (box && box.scrollTop === 0) box = box.parentElement;
            if (box) box.scrollTop -= 80;
        }"""
    )
    page.wait_for_timeout(300)
    top = heading.bounding_box()
    scatter = charts.nth(1).bounding_box()
    assert top and scatter
    y = max(top["y"] - 8, 0)
    page.screenshot(
        path=str(SCREENSHOTS / "report-phone.png"),
        clip={
            "x": 0,
            "y": y,
            "width": size["width"],
            "height": scatter["y"] + scatter["height"] - y + 8,
        },
        animations="disabled",
    )
    page.set_viewport_size(size)
    wait_for_app(page)


def shoot(page: Page, name: str) -> None:
    """The first two visible charts, each on its own (test-artifacts/screenshots/)."""
    charts = page.locator(".vega-embed").filter(visible=True)
    for i in range(min(charts.count(), 2)):
        charts.nth(i).screenshot(path=str(SCREENSHOTS / f"{name}-{i + 1}.png"))
