import pytest

from app.core.errors import KithError
from app.core.paths import Paths
from app.extract.templates import list_templates, load_template


def test_bundled_templates_and_their_signals():
    assert {"general", "sales", "investor", "one_on_one"} <= set(list_templates())
    assert load_template("sales").signal_keys == ("stage", "budget", "timeline", "decision_makers", "objections", "next_step")
    assert load_template("investor").signal_keys == ("company", "round", "metrics", "ask", "concerns", "next_step")
    assert load_template("one_on_one").instructions


def test_a_user_copy_overrides_the_bundled_template(kith_home):
    paths = Paths.under(kith_home)
    (paths.config / "templates").mkdir(parents=True)
    (paths.config / "templates" / "sales.toml").write_text(
        'name = "sales"\ntitle = "My sales"\ninstructions = "x"\n[[signals]]\nkey = "champion"\ndescription = "who pushes for us"\n')
    (paths.config / "templates" / "board.toml").write_text('title = "Board"\ninstructions = "y"\n')
    assert load_template("sales", paths).signal_keys == ("champion",)
    assert load_template("board", paths).title == "Board"
    assert "board" in list_templates(paths)


def test_bad_templates_are_clear_errors(kith_home, tmp_path):
    with pytest.raises(KithError, match="unknown meeting template"):
        load_template("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("title = \n")
    with pytest.raises(KithError, match="not valid TOML"):
        load_template(str(bad))
    bad.write_text('[[signals]]\nkey = "Bad Key"\n')
    with pytest.raises(KithError, match="bad or repeated key"):
        load_template(str(bad))


def test_copy_for_editing_makes_the_users_own_template(tmp_path):
    import pytest

    from app.core.errors import KithError
    from app.core.paths import Paths
    from app.extract.templates import copy_for_editing, load_template

    paths = Paths.under(tmp_path).ensure()
    mine = copy_for_editing("sales", paths)
    assert mine == paths.config / "templates" / "sales.toml" and load_template("sales", paths).source == str(mine)
    mine.write_text(mine.read_text().replace("budget", "budget_range"), encoding="utf-8")
    assert "budget_range" in load_template("sales", paths).signal_keys, "the edited copy wins"
    assert copy_for_editing("sales", paths).read_text().count("budget_range"), "a second call keeps the user's edits"
    with pytest.raises(KithError, match="unknown meeting template"):
        copy_for_editing("party", paths)
