"""Every colour a figure uses, in one place, chosen to be told apart by colour-blind readers.

- sequential scales (more = brighter): Viridis, Cividis — perceptually even, readable in grey;
- diverging scales (negative / 0 / positive): PuOr (purple-orange), which avoids the red-green
  axis; ``_r`` reverses one;
- categories: the Okabe-Ito palette (Okabe and Ito, "Color Universal Design", 2008), eight
  colours distinguishable under the common colour-vision deficiencies.

Figures import the names below; tests/unit/test_palettes.py fails on any colour scale or hex
colour written into a figure module instead.

>>> SEQUENTIAL in APPROVED_SCALES and DIVERGING in APPROVED_SCALES
True
"""
from __future__ import annotations

SEQUENTIAL = "Viridis"
SEQUENTIAL_ALT = "Cividis"
DIVERGING = "PuOr"
DIVERGING_REVERSED = "PuOr_r"
APPROVED_SCALES = frozenset({SEQUENTIAL, SEQUENTIAL_ALT, DIVERGING, DIVERGING_REVERSED})

# Okabe-Ito
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
CATEGORICAL = (BLUE, VERMILLION, GREEN, ORANGE, SKY_BLUE, PURPLE, BLACK, YELLOW)

# greys, for what is not data: dropped options, neutral cells
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"

# token chips (HTML): light tints of the Okabe-Ito colours behind dark text; the chips are told
# apart by their borders and text, the tint only helps the eye follow a row
CHIP_BACKGROUNDS = ("#F8DFA6", "#C6E6F8", "#A9DCCB", "#F9F5BD", "#A6C9E2", "#F0C3A6", "#EBCADD")
CHIP_SPECIAL = "#343A40"        # a special token: white text on near-black
CHIP_UNKNOWN = LIGHT_GREY
CHIP_TEXT, CHIP_SPECIAL_TEXT = "#212529", "#FFFFFF"
CHIP_HIGHLIGHT = VERMILLION
CHIP_BORDER = "#868E96"
