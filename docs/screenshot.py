#!/usr/bin/env python3
"""Renders a terminal capture (`tmux capture-pane -e -p`: text with ANSI colours) as a PNG.

    python3 docs/screenshot.py capture.ans docs/metrics-tail.png --size 120x40

Needs pyte (a terminal emulator) and Pillow, both from PyPI, and a monospace TrueType font
(DejaVu Sans Mono, Debian's fonts-dejavu-core).
"""

import argparse
import sys

import pyte
from PIL import Image, ImageDraw, ImageFont

# xterm's 16 colours, as the capture names them.
PALETTE = {
    "black": (0, 0, 0), "red": (205, 49, 49), "green": (13, 188, 121), "brown": (229, 229, 16),
    "blue": (36, 114, 200), "magenta": (188, 63, 188), "cyan": (17, 168, 205),
    "white": (229, 229, 229), "brightblack": (102, 102, 102), "brightred": (241, 76, 76),
    "brightgreen": (35, 209, 139), "brightyellow": (245, 245, 67), "brightblue": (59, 142, 234),
    "brightmagenta": (214, 112, 214), "brightcyan": (41, 184, 219), "brightwhite": (255, 255, 255),
}
FOREGROUND = (204, 204, 204)
BACKGROUND = (24, 24, 24)
FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    # The monospace face has no braille (the charts' dots); the proportional one does.
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]


def colour(name, default):
    if name == "default":
        return default
    if name in PALETTE:
        return PALETTE[name]
    if len(name) == 6:
        try:
            return tuple(int(name[i:i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            pass
    return default


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("png")
    parser.add_argument("--size", default="120x40", help="COLUMNSxROWS of the capture")
    parser.add_argument("--font-size", type=int, default=15)
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.split("x"))

    screen = pyte.Screen(columns, rows)
    stream = pyte.Stream(screen)
    with open(args.capture, encoding="utf-8", errors="replace") as capture:
        # capture-pane ends lines with a bare newline; a terminal needs the carriage return.
        # The last line's newline would scroll the first line away.
        stream.feed(capture.read().rstrip("\n").replace("\n", "\r\n"))

    regular = ImageFont.truetype(FONTS[0], args.font_size)
    bold = ImageFont.truetype(FONTS[1], args.font_size)
    braille = ImageFont.truetype(FONTS[2], args.font_size)
    left, top, right, bottom = regular.getbbox("M")
    cell_w = round(regular.getlength("M"))
    cell_h = round(args.font_size * 1.25)
    image = Image.new("RGB", (columns * cell_w + 16, rows * cell_h + 16), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for y in range(rows):
        line = screen.buffer[y]
        for x in range(columns):
            char = line[x]
            fg = colour(char.fg, FOREGROUND)
            bg = colour(char.bg, BACKGROUND)
            if char.reverse:
                fg, bg = bg, fg
            x0, y0 = 8 + x * cell_w, 8 + y * cell_h
            if bg != BACKGROUND:
                draw.rectangle([x0, y0, x0 + cell_w - 1, y0 + cell_h - 1], fill=bg)
            if char.data.strip():
                if 0x2800 <= ord(char.data[0]) <= 0x28FF:
                    font = braille
                elif char.bold:
                    font = bold
                else:
                    font = regular
                draw.text((x0, y0 + 1), char.data, font=font, fill=fg)
    image.save(args.png, optimize=True)
    print(f"{args.png}: {image.width}x{image.height}", file=sys.stderr)


if __name__ == "__main__":
    main()
