"""Ask: a question over all meetings, answered by the local model only from retrieved
transcript lines, each cited (click a citation to open the meeting at that line)."""
from __future__ import annotations

import html

from app.ui.context import UiContext
from app.ui.qt import QLineEdit, QTextBrowser, QWidget
from app.ui.widgets import PageHeader, TaskProgress, button, hbox, vbox

NOTHING = "I don't know — nothing in your meetings matches that question."


def ask_core(kith, question: str, engines, cancel=None) -> dict:
    """Model lane: retrieve (FTS over this lane's store connection), then answer with citations."""
    from app.core.output import to_jsonable
    from app.meetings.ask import retrieve

    retrieved = retrieve(kith.store(), question)
    if not retrieved:
        return {"text": NOTHING, "known": False, "citations": [], "sources": {}}
    if cancel is not None:
        cancel.raise_if_cancelled()
    from app.extract.ask import answer_question

    llm = engines.get_llm(kith, None)
    data = to_jsonable(answer_question(question, retrieved, llm))
    data["sources"] = {s.id: (title, str(d), s.meeting_id, s.speaker, s.text) for title, d, s in retrieved}
    return data


def answer_html(data: dict) -> str:
    out = [f"<p style='font-size:12pt'>{html.escape(data.get('text') or '')}</p>"]
    sources = data.get("sources") or {}
    cites = data.get("citations") or []
    if cites:
        out.append("<h4>Sources</h4>")
    for c in cites:
        sid = c.get("segment_id") if isinstance(c, dict) else c
        if sid in sources:
            title, d, mid, speaker, text = sources[sid]
            out.append(f"<p>“{html.escape(text)}”<br><span style='color:gray'>— {html.escape(speaker or 'speaker')}, "
                       f"<a href='src:{mid}:{sid}'>{html.escape(title)} ({d})</a></span></p>")
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
