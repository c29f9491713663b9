"""The theme in .streamlit/config.toml: light, real Streamlit options only, and contrast that
meets WCAG 2.2 AA (text 4.5:1; controls and their boundaries 3:1)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from streamlit import config as st_config

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"
HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB '#RRGGBB' colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def blend(fg: str, bg: str, alpha: float) -> str:
    mixed = (
        round(alpha * int(fg[i : i + 2], 16) + (1 - alpha) * int(bg[i : i + 2], 16))
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02X}" for c in mixed)


@pytest.fixture(scope="module")
def theme() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["theme"]


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the AA grey
    assert blend("#000000", "#FFFFFF", 0.5) == "#808080"


def test_theme_is_light_with_a_font_and_only_real_streamlit_options(theme: dict) -> None:
    assert theme["base"] == "light"
    assert theme.get("font"), "the theme names its font"
    known = st_config.get_config_options()

    def check(section: str, table: dict) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                check(f"{section}.{key}", value)
            else:
                assert f"{section}.{key}" in known, f"{section}.{key} is not a Streamlit option"

    check("theme", theme)
    for key in ("primaryColor", "backgroundColor", "secondaryBackgroundColor", "textColor"):
        assert HEX.match(theme[key]), f"{key} should be a #RRGGBB colour"


def test_body_text_is_readable_on_every_surface(theme: dict) -> None:
    text = theme["textColor"]
    assert contrast(text, theme["backgroundColor"]) >= 7.0  # AAA for body text
    assert contrast(text, theme["secondaryBackgroundColor"]) >= 4.5
    sidebar = theme.get("sidebar", {})
    if sidebar:
        assert contrast(sidebar.get("textColor", text), sidebar["backgroundColor"]) >= 4.5


def test_captions_and_help_text_stay_readable(theme: dict) -> None:
    # Streamlit draws captions and placeholders in the text colour at reduced opacity.
    for alpha in (0.6,):
        for surface in ("backgroundColor", "secondaryBackgroundColor"):
            faded = blend(theme["textColor"], theme[surface], alpha)
            assert contrast(faded, theme[surface]) >= 4.5, (alpha, surface)


def test_primary_colour_works_for_buttons_links_and_controls(theme: dict) -> None:
    primary = theme["primaryColor"]
    assert contrast(primary, theme["backgroundColor"]) >= 3.0  # a control against the page
    assert contrast(primary, theme["secondaryBackgroundColor"]) >= 3.0
    assert contrast("#FFFFFF", primary) >= 4.5  # white label on a primary button
    link = theme.get("linkColor", primary)
    assert contrast(link, theme["backgroundColor"]) >= 4.5  # links are text


def test_widget_borders_can_be_seen(theme: dict) -> None:
    # WCAG 1.4.11: the boundary of an input must reach 3:1 against what surrounds it.
    assert theme.get("showWidgetBorder") is True
    border = theme["borderColor"]
    assert contrast(border, theme["backgroundColor"]) >= 3.0
    assert contrast(border, theme["secondaryBackgroundColor"]) >= 3.0


def test_palette_is_calm_not_alarming(theme: dict) -> None:
    """The accent is a cool, deep colour (teal/navy), not Streamlit's default red, and the
    page is an off-white rather than glaring pure white."""
    primary = theme["primaryColor"].upper()
    r, g, b = (int(primary[i : i + 2], 16) for i in (1, 3, 5))
    assert b >= r and g >= r, "the accent should be blue-green, not red"
    assert relative_luminance(primary) < 0.15, "the accent should be deep"
    assert theme["backgroundColor"].upper() != "#FFFFFF"
    assert relative_luminance(theme["backgroundColor"]) > 0.85
