"""Review queue, people, action items, ask and settings against the real store."""
from __future__ import annotations

from datetime import date, timedelta

from uihelp import banner_text, db, idle

from app.core.domain import ActionItem, Contact, Suggestion


def test_accept_an_edited_suggestion_creates_the_contact(window, ctx, qtbot):
    db(ctx, lambda s: s.suggestions.add(Suggestion(kind="create_contact", payload={"name": "Priya Ramen", "email": "priya.raman@northwind.example",
                                                                                   "company": "Northwind", "title": ""})))
    db(ctx, lambda s: s.suggestions.add(Suggestion(kind="create_company", payload={"name": "Contoso", "domain": "contoso.example"})))
    review = window.go("review")
    idle(ctx, qtbot)
    assert review.list.count() == 2 and "Review  (2)" in window.nav.item(4).text()
    review.list.setCurrentRow(0)
    review.edits["name"].setText("Priya Raman")  # the person corrects the AI's spelling
    review.accept_btn.click()
    idle(ctx, qtbot)
    c = db(ctx, lambda s: s.contacts.find_by_email("priya.raman@northwind.example"))
    assert c is not None and c.name == "Priya Raman" and c.company_id is not None
    assert review.list.count() == 1 and "Accepted 1" in banner_text(window)
    # reject the rest in one go
    review._check_all()
    review.reject_many.click()
    idle(ctx, qtbot)
    assert db(ctx, lambda s: s.suggestions.list(status="pending")) == []
    assert db(ctx, lambda s: s.companies.find_by_domain("contoso.example")) is None
    assert review.stack.currentWidget() is review.empty


def test_people_edit_and_merge_duplicates(window, ctx, qtbot):
    a = db(ctx, lambda s: s.contacts.add(Contact(name="Dana Whitfield", emails=["dana@northwind.example"])))
    b = db(ctx, lambda s: s.contacts.add(Contact(name="Dana W.", emails=["dana.w@gmail.example"], title="VP Support")))
    window.open_person(a.id)
    idle(ctx, qtbot)
    pane = window.page("people").contacts
    assert pane.current.id == a.id
    pane.form.edits["phones"].setText("+1 555 0100")
    pane.save()
    idle(ctx, qtbot)
    saved = db(ctx, lambda s: s.contacts.get(a.id))
    assert saved.phones == ["+1 555 0100"]
    assert saved.source == "user"  # an edit in the app is protected from AI suggestions, as in the CLI
    from app.ops.crm import merge_contacts

    merged = db(ctx, lambda s: merge_contacts(s, a.id, b.id).value)
    assert set(merged.emails) == {"dana@northwind.example", "dana.w@gmail.example"} and merged.title == "VP Support"
    assert [c.name for c in db(ctx, lambda s: s.contacts.list())] == ["Dana Whitfield"]


def test_bad_value_in_a_form_is_a_readable_error(window, ctx, qtbot):
    from app.core.domain import Deal

    d = db(ctx, lambda s: s.deals.add(Deal(company_id=None, title="Northwind pilot")))
    people = window.go("people")
    people.tabs.setCurrentWidget(people.deals)
    idle(ctx, qtbot)
    people.deals.form.edits["amount"].setText("twelve grand")
    people.deals.save()
    idle(ctx, qtbot)
    assert "Amount" in banner_text(window) and "12000" in banner_text(window)
    assert db(ctx, lambda s: s.deals.get(d.id)).amount is None


def test_deal_stage_currency_and_close_date_are_pickers_and_can_be_left_empty(window, ctx, qtbot):
    from app.core.domain import DEAL_STAGES, Deal
    from app.ui.qt import QDate

    d = db(ctx, lambda s: s.deals.add(Deal(company_id=None, title="Northwind pilot")))
    people = window.go("people")
    people.tabs.setCurrentWidget(people.deals)
    idle(ctx, qtbot)
    form = people.deals.form
    stage, currency, close = form.edits["stage"], form.edits["currency"], form.edits["close_date"]
    assert [stage.itemText(i) for i in range(1, stage.count())] == list(DEAL_STAGES) and stage.isEditable()
    assert currency.findData("EUR") > 0 and not currency.isEditable()
    assert (stage.currentText(), currency.currentData(), close.value()) == ("", "", None)  # empty shows empty
    assert close.edit.text() == "No date" and close.edit.calendarPopup()
    stage.setCurrentIndex(stage.findData("negotiation"))
    currency.setCurrentIndex(currency.findData("EUR"))
    close.edit.setDate(QDate(2026, 12, 18))
    people.deals.save()
    idle(ctx, qtbot)
    saved = db(ctx, lambda s: s.deals.get(d.id))
    assert (saved.stage, saved.currency, saved.close_date) == ("negotiation", "EUR", date(2026, 12, 18))
    # a custom stage is typed; everything cleared again saves as empty
    stage.setEditText("security review")
    people.deals.save()
    idle(ctx, qtbot)
    assert db(ctx, lambda s: s.deals.get(d.id)).stage == "security review"
    people.deals.select(d.id)
    idle(ctx, qtbot)
    assert stage.currentText() == "security review" and close.value() == date(2026, 12, 18)
    stage.setEditText("")
    currency.setCurrentIndex(0)
    close.clear_btn.click()
    people.deals.save()
    idle(ctx, qtbot)
    saved = db(ctx, lambda s: s.deals.get(d.id))
    assert (saved.stage, saved.currency, saved.close_date) == ("", "", None)


def test_action_items_filter_and_mark_done(window, ctx, qtbot):
    today = date.today()
    db(ctx, lambda s: s.actions.add(ActionItem(meeting_id=None, text="Send the security overview", owner_text="Sam",
                                                due_date=today - timedelta(days=1), status="open")))
    db(ctx, lambda s: s.actions.add(ActionItem(meeting_id=None, text="Sign the order form", owner_text="Dana",
                                                due_date=today + timedelta(days=30), status="open")))
    view = window.go("actions")
    idle(ctx, qtbot)
    assert view.table.rowCount() == 2
    view.due.setCurrentIndex(1)  # overdue
    idle(ctx, qtbot)
    assert view.table.rowCount() == 1 and view.table.item(0, 2).text() == "Send the security overview"
    view.due.setCurrentIndex(0)
    idle(ctx, qtbot)
    view.owner.setCurrentIndex(view.owner.findData("Dana"))
    assert view.table.rowCount() == 1
    view.table.selectRow(0)
    view.done_btn.click()
    idle(ctx, qtbot)
    assert [a.text for a in db(ctx, lambda s: s.actions.list(status="done"))] == ["Sign the order form"]


def test_ask_says_it_does_not_know_without_matching_meetings(window, ctx, qtbot):
    ask = window.go("ask")
    ask.question.setText("What is the pilot budget?")
    ask.ask()
    idle(ctx, qtbot)
    assert "don't know" in ask.answer.toPlainText()


def test_bad_model_path_in_settings_is_a_readable_error(window, ctx, qtbot, tmp_path):
    settings = window.go("settings")
    settings.show_tab("Models")
    idle(ctx, qtbot)
    before = ctx.settings.llm.model
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a gguf file")
    settings.models.llm.setCurrentText(str(bogus))
    settings.models.apply()
    idle(ctx, qtbot)
    text = banner_text(window)
    assert text and "Traceback" not in text and "Something went wrong" not in text, text
    assert ctx.settings.llm.model == before  # nothing saved
    settings.models.llm.setCurrentText(str(tmp_path / "missing.gguf"))
    settings.models.apply()
    idle(ctx, qtbot)
    assert "missing.gguf" in banner_text(window) or "not" in banner_text(window).lower()
    assert ctx.settings.llm.model == before


def test_you_and_templates_saves_settings(window, ctx, qtbot):
    from app.core.config import load_settings

    settings = window.go("settings")
    settings.show_tab("You & templates")
    settings.you.name.setText("Sam Carter")
    settings.you.template.setCurrentText("sales")
    settings.you.save()
    on_disk = load_settings(ctx.kith.paths.settings_file)
    assert on_disk.crm.my_name == "Sam Carter" and on_disk.crm.default_template == "sales"
