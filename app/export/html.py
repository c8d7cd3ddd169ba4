"""Minutes Markdown → the simple HTML CRMs accept in note bodies (HubSpot ``hs_note_body``,
Salesforce ContentNote): headings, paragraphs, bullet/numbered/task lists, bold, italics,
inline code and links. Everything else is escaped text — nothing the user wrote becomes markup."""
from __future__ import annotations

import html
import re

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"\[\[([^\]|]+)\|([^\]]+)\]\]"), r"\2"),
    (re.compile(r"\[\[([^\]]+)\]\]"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)"), r'<a href="\2">\1</a>'),
]
_BULLET = re.compile(r"^\s*[-*+]\s+(\[[ xX]\]\s+)?(.*)$")
_NUMBER = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def inline(text: str) -> str:
    out = html.escape(text, quote=True)
    for rx, repl in _INLINE:
        out = rx.sub(repl, out)
    return out


def md_to_html(md: str) -> str:
    out: list[str] = []
    para: list[str] = []
    list_tag: str | None = None

    def flush_para():
        if para:
            out.append("<p>" + "<br>".join(inline(p) for p in para) + "</p>")
            para.clear()

    def close_list():
        nonlocal list_tag
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for raw in md.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush_para()
            close_list()
            continue
        if m := _HEADING.match(line):
            flush_para()
            close_list()
            level = min(len(m.group(1)) + 1, 6)  # the note has its own title: start at h2
            out.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
            continue
        bullet, number = _BULLET.match(line), _NUMBER.match(line)
        if bullet or number:
            flush_para()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                out.append(f"<{tag}>")
                list_tag = tag
            if bullet:
                box = bullet.group(1)
                mark = ("☑ " if box.strip("[] ").lower() == "x" else "☐ ") if box else ""
                out.append(f"<li>{mark}{inline(bullet.group(2))}</li>")
            else:
                out.append(f"<li>{inline(number.group(1))}</li>")
            continue
        if line.lstrip().startswith(">"):
            flush_para()
            close_list()
            out.append(f"<blockquote>{inline(line.lstrip()[1:].strip())}</blockquote>")
            continue
        close_list()
        para.append(line.strip())
    flush_para()
    close_list()
    return "".join(out)


def md_to_text(md: str) -> str:
    """Plain text for places that take no markup (classic Salesforce Note, Task description)."""
    lines = []
    for raw in md.splitlines():
        line = raw.rstrip()
        if m := _HEADING.match(line):
            line = m.group(2).upper()
        line = re.sub(r"\*\*(.+?)\*\*", r"\1", line)
        line = re.sub(r"\[\[([^\]|]+)(\|([^\]]+))?\]\]", lambda m: m.group(3) or m.group(1), line)
        lines.append(line)
    return "\n".join(lines).strip()
