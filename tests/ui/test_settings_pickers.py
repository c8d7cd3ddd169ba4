"""Settings → You & templates: the meeting language is a list of the languages faster-whisper
knows (plus auto-detect), saved as its code; the template list is the installed templates."""
from __future__ import annotations

from uihelp import idle


def test_language_list_is_faster_whispers():
    import faster_whisper.tokenizer as tok

    from app.transcribe.languages import CODES, language_choices

    assert CODES == tuple(tok._LANGUAGE_CODES)  # the copy (kept to start fast) matches the engine
    choices = language_choices()
    assert choices[0] == ("auto", "Detect automatically") and len(choices) == len(CODES) + 1
    assert ("de", "German (de)") in choices


def test_language_picker_saves_a_code_and_auto(window, ctx, qtbot):
    from app.core.config import load_settings

    settings = window.go("settings")
    settings.show_tab("You & templates")
    you = settings.you
    assert you.language.currentData() == "auto" and you.language.count() == 101
    assert you.template.findText("sales") >= 0 and you.template.findText("one_on_one") >= 0
    you.language.setCurrentIndex(you.language.findData("de"))
    you.save()
    idle(ctx, qtbot)
    assert ctx.settings.transcribe.language == "de"
    assert load_settings(ctx.kith.paths.settings_file).transcribe.language == "de"
    you.language.setCurrentIndex(0)
    you.save()
    idle(ctx, qtbot)
    assert load_settings(ctx.kith.paths.settings_file).transcribe.language == "auto"
