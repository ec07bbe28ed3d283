"""One static, self-contained HTML page bringing a report's tables and figures together.

Images are embedded as base64 data URIs, styles are inline, and nothing is loaded from a network: the page
opens from disk anywhere. Other files of the report (PDF figures, LaTeX, CSV) are linked by relative paths.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import os
from pathlib import Path

import pandas as pd

from nrsfm_bench.store import atomic_path

MIME = {".png": "image/png", ".gif": "image/gif"}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0; }
th, td { padding: .25em .6em; text-align: right; border-bottom: 1px solid #e4e4e4; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #444; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: .3em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; margin: .3em 0; }
.notes { font-size: .8em; color: #555; } .files { font-size: .8em; } .meta { font-size: .85em; color: #444; }
"""


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled part of the page; `body` is HTML."""

    title: str
    body: str


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def files_line(files: list[Path], base: Path) -> str:
    if not files:
        return ""
    links = ", ".join(f'<a href="{html.escape(_relative(f, base))}">{html.escape(f.name)}</a>' for f in files)
    return f'<p class="files">files: {links}</p>'


def table_section(title: str, cells: pd.DataFrame, caption: str, notes: tuple[str, ...] | list[str],
                  files: list[Path], base: Path) -> Section:
    """A table (rows × columns of strings) with its caption, notes and links to its .md/.tex/.csv files."""
    table = cells.to_html(escape=True, border=0, na_rep="–")
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    body = (f"<p><strong>{html.escape(caption)}</strong></p>{table}"
            + (f'<ul class="notes">{notes_html}</ul>' if notes_html else "") + files_line(files, base))
    return Section(title, body)


def embedded_image(path: Path, alt: str) -> str:
    """An <img> whose source is the file's bytes as a base64 data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:{MIME[path.suffix.lower()]};base64,{data}">'


def figure_section(title: str, images: list[Path], files: list[Path], base: Path, caption: str = "") -> Section:
    body = (f"<p>{html.escape(caption)}</p>" if caption else "") + "".join(
        embedded_image(p, p.stem) for p in images) + files_line(files, base)
    return Section(title, body)


def page(title: str, summary: list[str], sections: list[Section]) -> str:
    """The whole HTML document."""
    toc = "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections))
    parts = [f'<section id="s{i}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for i, s in enumerate(sections)]
    meta = "".join(f"<li>{html.escape(line)}</li>" for line in summary)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n<ul class=\"meta\">{meta}</ul>\n<ul>{toc}</ul>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def write_page(path: Path, title: str, summary: list[str], sections: list[Section]) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(page(title, summary, sections), encoding="utf-8")
    return path
