"""Ask: a question over all meetings, answered by the local model only from retrieved
transcript lines, each cited (click a citation to open the meeting at that line)."""
from __future__ import annotations

import html

from app.ui.context import UiContext
from app.ui.qt import QLineEdit, QTextBrowser, QWidget
from app.ui.widgets import PageHeader, TaskProgress, button, hbox, vbox

def ask_core(kith, question: str, engines, cancel=None) -> dict:
    """Model lane: the one ask operation (app.ops.meetings.ask → app.meetings.ask.ask, which `kith ask`
    calls too), as `kith ask --json` gives it."""
    from app.ops.meetings import ask

    return ask(kith, question, engines=engines, cancel=cancel).value


def _source(text: str, speaker: str, title: str, day, mid, sid) -> str:
    return (f"<p>“{html.escape(text)}”<br><span style='color:gray'>— {html.escape(speaker or 'speaker')}, "
            f"<a href='src:{mid}:{sid}'>{html.escape(title)} ({html.escape(str(day or 'undated'))})</a></span></p>")


def answer_html(data: dict) -> str:
    out = [f"<p style='font-size:12pt'>{html.escape(data.get('text') or '')}</p>"]
    cites = data.get("citations") or []
    if cites:
        out.append("<h4>Sources</h4>")
        out += [_source(c["quote"], c["speaker"], c["meeting_title"], c["meeting_date"], c["meeting_id"], c["segment_id"])
                for c in cites]
    elif data.get("unsure"):  # lines were found but the model could not answer from them: show them
        out.append("<h4>Closest lines</h4>")
        out += [_source(r["text"], r["speaker"], r["meeting_title"], r["meeting_date"], r["meeting_id"], r["segment_id"])
                for r in (data.get("retrieved") or []) if r.get("hit")][:5]
    if data.get("note"):
        out.append(f"<p style='color:gray'>{html.escape(data['note'])}</p>")
    return "".join(out)


class AskView(QWidget):
    def __init__(self, ctx: UiContext):
        super().__init__()
        self.ctx = ctx
        self.last: dict | None = None
        self.header = PageHeader("Ask", "Ask anything about your meetings. Answers come only from what was said, with sources.")
        self.question = QLineEdit()
        self.question.setPlaceholderText("e.g. What did we agree about the pilot budget?  (Ctrl+K)")
        self.question.setAccessibleName("Question")
        self.question.returnPressed.connect(self.ask)
        self.ask_btn = button("Ask", self.ask, name="Ask the question", primary=True)
        self.answer = QTextBrowser()
        self.answer.setOpenLinks(False)
        self.answer.anchorClicked.connect(self._open)
        self.answer.setAccessibleName("Answer")
        self.answer.setHtml("<p style='color:gray'>Answers appear here, each with the lines it is based on.</p>")
        self.progress = TaskProgress()
        self.setLayout(vbox(self.header, hbox(self.question, self.ask_btn), self.progress, self.answer, spacing=10))

    def focus_question(self) -> None:
        self.question.setFocus()
        self.question.selectAll()

    def ask(self) -> None:
        q = self.question.text().strip()
        if not q:
            return
        self.ask_btn.setEnabled(False)
        tasks = self.ctx.tasks

        def fail(e) -> None:
            self.ask_btn.setEnabled(True)
            self.ctx.show_error(e)

        h = tasks.model(lambda kith, h: ask_core(kith, q, tasks.engines, h.cancel_token), self._show, fail, name="ask")
        self.progress.track(h, tasks, "Searching your meetings and thinking…")

    def _show(self, data: dict) -> None:
        self.ask_btn.setEnabled(True)
        self.last = data
        self.answer.setHtml(answer_html(data))

    def _open(self, url) -> None:
        _k, mid, sid = url.toString().split(":")
        self.ctx.window.open_meeting(int(mid), [int(sid)])
