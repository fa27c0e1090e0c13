"""Scenario files: loading, extends, and clear errors for every kind of mistake."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from conftest import SCENARIOS, toy_dict
from pydantic import ValidationError

from sim.scenario import FM_DISCOUNTING, Scenario, ScenarioError, load_scenario


def test_shipped_scenarios_load():
    for path in SCENARIOS.glob("*.toml"):
        s = load_scenario(path)
        assert s.step_ids[0] == "early" and s.step_ids[-1] == "institution"


def test_strategy_extends_baseline_and_overrides_only_what_it_says():
    base = load_scenario(SCENARIOS / "denmark-baseline.toml")
    plan = load_scenario(SCENARIOS / "denmark-early-detection.toml")
    assert base.intervention is None and plan.intervention is not None
    assert plan.steps == base.steps and plan.transitions == base.transitions
    assert plan.name == "denmark-early-detection"


def test_default_discounting_is_finansministeriet(toy):
    periods = [(p.from_year, p.rate) for p in toy.discounting.periods]
    assert periods == [(p["from_year"], p["rate"]) for p in FM_DISCOUNTING]


def test_rates_of_ones_own_are_not_credited_to_finansministeriet(toy, write_scenario):
    """Only Finansministeriet's rates carry its name; rates changed without a source carry none."""
    from sim.outputs.language import money_note

    assert toy.discounting.source == "Finansministeriet 2021"
    own = toy.with_changes({"discounting.periods": [{"from_year": 0, "rate": 0.04}]})
    assert own.discounting.source == ""
    assert money_note(own, "en").replace("\xa0", " ").endswith("real rate of 4.0 % from year 0.")
    assert "Finansministeriet" not in money_note(own, "da")
    # The default rates again, or a source given with the change: said as such.
    back = own.with_changes({"discounting.periods": [dict(p) for p in FM_DISCOUNTING]})
    assert back.discounting.source == "Finansministeriet 2021"
    said = toy.with_changes(
        {"discounting.periods": [{"from_year": 0, "rate": 0.04}], "discounting.source": "KL"}
    )
    assert money_note(said, "en").endswith("from year 0 (KL).")
    assert toy.with_changes({"horizon_years": 5}).discounting.source == "Finansministeriet 2021"
    # In files: rates of a file's own, and a file extending one with a source, changing the rates only.
    d = toy_dict()
    d["discounting"] = {"periods": [{"from_year": 0, "rate": 0.03}]}
    assert load_scenario(write_scenario(d, "own.toml")).discounting.source == ""
    d["discounting"] = {"source": "Finansministeriet 2021"}
    write_scenario(d, "base.toml")
    plan = 'extends = "base.toml"\nname = "plan"\n[discounting]\nperiods = [{ from_year = 0, rate = 0.05 }]\n'
    assert load_scenario(write_scenario(plan, "plan.toml")).discounting.source == ""


def test_with_changes_warns_about_the_implausible_numbers_it_sets(toy):
    from sim.scenario.plausibility import PlausibilityWarning

    with pytest.warns(PlausibilityWarning) as caught:
        changed = toy.with_changes({"steps.placed.cost_per_year": 1.2, "horizon_years": 5})
    assert changed.steps["placed"].cost_per_year == 1.2  # a warning, not a refusal
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and "key 'steps.placed.cost_per_year': value 1.2" in said[0], said
    # A table given whole is checked under its key; numbers not changed are not warned about again.
    with pytest.warns(PlausibilityWarning, match="steps.placed.cost_per_year"):
        toy.with_changes({"steps.placed": {**toy_dict()["steps"]["placed"], "cost_per_year": 1.2}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        changed.with_changes({"horizon_years": 6})  # its 1.2 stays, unwarned: not this change's
        toy.with_changes({"steps.placed.cost_per_year": 1.2}, warn=False)


def test_with_changes_refuses_anything_but_a_dict_of_dotted_keys(toy):
    with pytest.raises(ScenarioError, match="dict of dotted keys .* not str"):
        toy.with_changes("steps.placed.cost_per_year=1")
    with pytest.raises(ScenarioError, match="not list"):
        toy.with_changes([("horizon_years", 5)])


def test_scenario_is_frozen(toy):
    with pytest.raises(ValidationError):
        toy.horizon_years = 3


def test_with_changes_returns_validated_copy(toy):
    changed = toy.with_changes({"steps.placed.cost_per_year": 1.3e6, "horizon_years": 5})
    assert changed.steps["placed"].cost_per_year == 1.3e6 and changed.horizon_years == 5
    assert toy.steps["placed"].cost_per_year == 500_000
    with pytest.raises(ScenarioError, match="steps.placed.cost_per_year"):
        toy.with_changes({"steps.placed.cost_per_year": -1})


def test_input_hash_is_stable_and_sensitive(toy):
    same = Scenario.from_dict(toy_dict())
    assert toy.input_hash() == same.input_hash()
    assert toy.with_changes({"horizon_years": 11}).input_hash() != toy.input_hash()


def _toy_with(path: tuple[str, ...], value) -> dict:
    """The toy scenario with one value, at a key path, replaced."""
    d = toy_dict()
    node = d
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return d


def _error(data) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, file="x.toml")
    return info.value


def test_typo_in_key_gets_did_you_mean():
    d = toy_dict()
    d["steps"]["placed"]["cost_per_yaer"] = d["steps"]["placed"].pop("cost_per_year")
    err = _error(d)
    assert err.key == "steps.placed.cost_per_yaer"
    assert "Did you mean 'cost_per_year'" in err.message and "x.toml" in str(err)


def test_typo_at_top_level():
    d = toy_dict()
    d["horizon"] = d.pop("horizon_years")
    err = _error(d)
    assert err.key == "horizon" and "horizon_years" in err.message


@pytest.mark.parametrize(
    ("path", "value", "key", "words"),
    [
        (("transitions", "low", "mid"), -0.5, "transitions.low.mid", "must be at least 0"),
        (("steps", "mid", "cost_per_year"), -1, "steps.mid.cost_per_year", "must be at least 0"),
        (("population", "entries_per_year"), "many", "population.entries_per_year", "must be a number"),
        (("horizon_years",), 0, "horizon_years", "must be at least 1"),
    ],
)
def test_bad_values_name_the_key(path, value, key, words):
    err = _error(_toy_with(path, value))
    assert err.key == key
    assert words in err.message


def test_unknown_step_in_transitions():
    d = toy_dict()
    d["transitions"]["mid"]["plaecd"] = 0.1
    err = _error(d)
    assert err.key == "transitions.mid.plaecd"
    assert "Did you mean 'placed'" in err.message and "Allowed: low, placed, closed" in err.message


def test_unknown_age_band_and_missing_band():
    d = toy_dict()
    d["transitions"]["mid"]["placed"] = {"0-5": 0.1, "6-11": 0.2, "12-18": 0.3}
    assert "unknown age band '12-18'" in _error(d).message
    d["transitions"]["mid"]["placed"] = {"0-5": 0.1, "6-11": 0.2}
    assert "missing: 12-17" in _error(d).message


def test_a_cost_per_child_reached_needs_steps_to_reach():
    """Without reached_steps nobody is reached: the cost was left out of every figure without a word."""
    d = toy_dict()
    d["intervention"] = {"start_year": 2026, "cost_per_child_reached": 5_000.0}
    err = _error(d)
    assert err.key == "intervention.cost_per_child_reached"
    assert "reached_steps" in err.message and "allowed: low, mid, placed" in err.message
    d["intervention"]["reached_steps"] = ["low"]
    Scenario.from_dict(d)  # with steps: valid
    d["intervention"] = {"start_year": 2026, "cost_per_child_reached": 0.0}
    Scenario.from_dict(d)  # no cost: nothing to reach


def test_shares_must_sum_to_one():
    d = toy_dict()
    d["population"]["entry_step_shares"]["low"] = 0.7
    err = _error(d)
    assert err.key == "population.entry_step_shares" and "sum to 1" in err.message


def test_missing_required_key():
    d = toy_dict()
    del d["price_year"]
    err = _error(d)
    assert err.key == "price_year" and "missing" in err.message


def test_unknown_duration_distribution():
    d = toy_dict()
    d["steps"]["placed"]["duration"] = {"dist": "gamma"}
    err = _error(d)
    assert err.key.startswith("steps.placed.duration") and "mixture" in err.message


def test_intervention_must_scale_existing_transition():
    d = toy_dict(intervention={"start_year": 2025, "hazard_ratios": {"low": {"placed": 0.5}}})
    err = _error(d)
    assert err.key == "intervention.hazard_ratios.low.placed" and "no transition" in err.message


def test_intervention_before_start_year():
    err = _error(toy_dict(intervention={"start_year": 2020}))
    assert err.key == "intervention.start_year"


def test_broken_toml_names_the_file(write_scenario):
    path = write_scenario("name = 'x'\nhorizon_years = = 3\n", "broken.toml")
    with pytest.raises(ScenarioError, match="broken.toml.*not valid TOML"):
        load_scenario(path)


def test_missing_file_and_missing_parent(write_scenario, tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")
    path = write_scenario('extends = "nope.toml"\n', "child.toml")
    with pytest.raises(ScenarioError, match="'nope.toml' not found next to child.toml"):
        load_scenario(path)
    # A typo in the name of a file that is there: named.
    write_scenario(toy_dict(), "denmark-baseline.toml")
    typo = write_scenario('extends = "denmark-basline.toml"\n', "typo.toml")
    with pytest.raises(
        ScenarioError, match="'denmark-basline.toml' not found. Did you mean 'denmark-baseline.toml'"
    ):
        load_scenario(typo)


def test_circular_extends(write_scenario):
    write_scenario('extends = "b.toml"\n', "a.toml")
    b = write_scenario('extends = "a.toml"\n', "b.toml")
    with pytest.raises(ScenarioError, match="circular extends"):
        load_scenario(b)


def test_extends_merges_tables(write_scenario):
    write_scenario(toy_dict(), "base.toml")
    child = write_scenario(
        {"extends": "base.toml", "name": "child", "steps": {"placed": {"cost_per_year": 9e5}}}, "child.toml"
    )
    s = load_scenario(child)
    assert s.steps["placed"].cost_per_year == 9e5 and s.steps["placed"].placement is True
    assert s.name == "child"


def test_scenario_files_are_data_not_code(write_scenario):
    # A string that looks like code stays a string; nothing is evaluated.
    d = toy_dict(description="__import__('os').system('touch /tmp/trappesim-pwned')")
    s = load_scenario(write_scenario(d))
    assert s.description.startswith("__import__")


def test_aftercare_adds_band():
    d = toy_dict()
    d["population"]["aftercare_until_age"] = 23
    s = Scenario.from_dict(d)
    assert s.band_labels == ["0-5", "6-11", "12-17", "18-22"]


def test_stock_older_than_leaving_age_is_refused():
    d = toy_dict()
    d["population"]["aftercare_until_age"] = 23
    d["population"]["aftercare_steps"] = ["placed"]
    d["population"]["initial_stock"]["low"]["age_shares"] = {"0-5": 0.5, "18-22": 0.5}
    err = _error(d)
    assert err.key == "population.initial_stock.low.age_shares.18-22" and "leave at 18" in err.message
    d["population"]["initial_stock"]["low"]["age_shares"] = {"0-5": 1.0}
    d["population"]["initial_stock"]["placed"]["age_shares"] = {"12-17": 0.5, "18-22": 0.5}
    assert Scenario.from_dict(d).population.initial_stock["placed"].age_shares["18-22"] == 0.5


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("population", "children"), "45000", "whole number"),
        (("population", "children"), 45000.5, "whole number"),
        (("population", "children"), True, "whole number"),
        (("transitions", "mid", "low"), "0.3", "must be a number"),
        (("steps", "placed", "placement"), "yes", "true or false"),
    ],
)
def test_wrong_types_are_refused_not_converted(path, value, words):
    err = _error(_toy_with(path, value))
    assert err.key == ".".join(path) and words in err.message


@pytest.mark.parametrize("text", ["entries_per_year = 1.540", "cost_per_year = 1.160.000  # DKK"])
def test_danish_thousands_separator_is_caught(write_scenario, text):
    path = write_scenario(f'name = "x"\n{text}\n')
    with pytest.raises(ScenarioError, match="reads as a decimal number") as info:
        load_scenario(path)
    assert info.value.key in text


@pytest.mark.parametrize(
    "text, key",
    [
        ("[population]\nchildren = 45.000", "population.children"),
        ("[steps.foster]\ncost_per_year = 1.160.000", "steps.foster.cost_per_year"),
        (
            '[steps.foster]\ncost_per_year = { dist = "gamma", mean = 1.160, sd = 150_000 }',
            "steps.foster.cost_per_year.mean",
        ),
        # No spaces around it: a file is parsed twice (tomlkit) only if its text has such a number.
        (
            '[steps.foster]\ncost_per_year={dist="gamma",mean=1.160,sd=150_000}',
            "steps.foster.cost_per_year.mean",
        ),
        ("[population]\nchildren=45.000#count", "population.children"),
    ],
)
def test_danish_thousands_separator_names_the_whole_key(write_scenario, text, key):
    path = write_scenario(f'name = "x"\n{text}\n')
    with pytest.raises(ScenarioError, match="reads as a decimal number") as info:
        load_scenario(path)
    assert info.value.key == key


def test_decimal_comma_gets_a_hint(write_scenario):
    path = write_scenario('name = "x"\n[steps.foster]\ncost_per_year = 1,54\n')
    with pytest.raises(ScenarioError, match="a decimal comma\\? TOML writes decimals with a point"):
        load_scenario(path)


def test_a_space_between_thousands_and_a_key_given_twice_are_named(write_scenario):
    path = write_scenario('name = "x"\n[population]\nchildren = 30 000\n', "space.toml")
    with pytest.raises(
        ScenarioError, match="a space between thousands\\? TOML writes thousands as 30000"
    ) as info:
        load_scenario(path)
    assert info.value.key == "population.children"
    path = write_scenario('name = "x"\nhorizon_years = 20\nhorizon_years = 15\n', "twice.toml")
    with pytest.raises(ScenarioError, match="'horizon_years' is given twice: keep one of them") as info:
        load_scenario(path)
    assert info.value.key == "horizon_years"


def test_byte_order_mark_is_accepted(write_scenario, tmp_path):
    import tomli_w

    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + tomli_w.dumps(toy_dict()).encode())
    assert load_scenario(path).name == "toy"


def test_a_file_saved_in_another_encoding_says_where_and_how_to_save_it(tmp_path):
    import tomli_w

    path = tmp_path / "cp1252.toml"
    path.write_bytes(tomli_w.dumps(toy_dict(title="Københavns Kommune")).encode("cp1252"))
    line = next(i for i, t in enumerate(path.read_bytes().split(b"\n"), start=1) if b"K\xf8benhavns" in t)
    with pytest.raises(ScenarioError, match=f"not UTF-8 \\(line {line}: .*save it as UTF-8"):
        load_scenario(path)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"placed": {"capacity": {"places": -3}}}, "steps.placed.capacity.places", "at least 0"),
        (
            {"placed": {"capacity": {"places": 10, "overflow_to": "instituion"}}},
            "steps.placed.capacity.overflow_to",
            "unknown step",
        ),
        (
            {"placed": {"capacity": {"places": 10, "overflow_to": "placed"}}},
            "steps.placed.capacity.overflow_to",
            "itself",
        ),
        (
            {"placed": {"capacity": {"places": 10, "max_wait_years": 1}}},
            "steps.placed.capacity.max_wait_years",
            "overflow_to",
        ),
        (
            {"placed": {"capacity": {"places": 10, "wait_on": "placed"}}},
            "steps.placed.capacity.wait_on",
            "without a capacity",
        ),
        (
            {"mid": {"review": {"interval_months": 0, "moves": {"closed": 0.2}}}},
            "steps.mid.review.interval_months",
            "above 0",
        ),
        (
            {"mid": {"review": {"interval_months": 6, "moves": {"closed": 0.7, "low": 0.6}}}},
            "steps.mid.review.moves",
            "at most 1",
        ),
        (
            {"mid": {"review": {"interval_months": 6, "moves": {"mid": 0.2}}}},
            "steps.mid.review.moves.mid",
            "own step",
        ),
    ],
)
def test_bad_capacity_and_review_input(change, key, words):
    d = toy_dict()
    for step, table in change.items():
        d["steps"][step].update(table)
    err = _error(d)
    assert err.key == key and words in err.message


def test_cycle_of_overflows_is_refused():
    d = toy_dict()
    d["steps"]["mid"]["capacity"] = {"places": 10, "overflow_to": "placed"}
    d["steps"]["placed"]["capacity"] = {"places": 10, "overflow_to": "mid", "wait_on": "low"}
    err = _error(d)
    assert "cycle of overflows" in err.message and "mid -> placed -> mid" in err.message


def test_save_scenario_writes_a_file_that_loads_back_unchanged(tmp_path):
    from sim.scenario import save_scenario

    # A file that extends another and has numbers given as distributions.
    original = load_scenario(SCENARIOS / "municipality-early-detection-uncertain.toml")
    path = save_scenario(original, tmp_path / "mine.toml", note="Built in a notebook\nfrom our own numbers")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Built in a notebook\n# from our own numbers\n")
    back = load_scenario(path)
    assert back.input_hash() == original.input_hash()
    assert {u.path for u in back.uncertain} == {u.path for u in original.uncertain}
    from sim.errors import OutputExistsError, TrappesimError

    with pytest.raises(OutputExistsError, match="exists") as err:
        save_scenario(original, path)
    # Raised on purpose: a TrappesimError (as the API reference says), and still a FileExistsError.
    assert isinstance(err.value, TrappesimError) and isinstance(err.value, FileExistsError)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]


def test_scenario_notes_come_from_the_comments_of_the_file_and_its_parents(tmp_path):
    from sim.scenario import scenario_notes

    (tmp_path / "base.toml").write_text(
        'name = "b"\nprice_year = 2019  # Benchmarkingenheden\n[steps.foster]\n'
        "cost_per_year = 470_000  # BE 2020 (M)\n"
        'duration = { dist = "mixture", short_share = 0.3, short_mean_years = 0.5, long_mean_years = 11.0 }  # assumption (L)\n',
        encoding="utf-8",
    )
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\n[steps.foster]\ncost_per_year = 500_000  # own figure 2024\n',
        encoding="utf-8",
    )
    notes = scenario_notes(tmp_path / "child.toml")
    assert notes["price_year"] == "Benchmarkingenheden"
    assert notes["steps.foster.cost_per_year"] == "own figure 2024"  # the child's comment wins
    assert notes["steps.foster.duration"] == "assumption (L)"
    # A value written again without a note drops its parent's note, which was about the parent's value.
    (tmp_path / "quiet.toml").write_text(
        'extends = "base.toml"\n[steps.foster]\ncost_per_year = 500_000\n'
        'duration = { dist = "mixture", short_share = 0.5, short_mean_years = 1.0, long_mean_years = 9.0 }\n',
        encoding="utf-8",
    )
    quiet = scenario_notes(tmp_path / "quiet.toml")
    assert "steps.foster.cost_per_year" not in quiet and "steps.foster.duration" not in quiet
    assert quiet["price_year"] == "Benchmarkingenheden"  # not written again: still the parent's


def test_comment_lines_right_above_a_key_or_table_are_its_note(tmp_path):
    from sim.scenario import scenario_notes, written_keys

    (tmp_path / "s.toml").write_text(
        "# the file's header: a blank line parts it from the first key\n\n"
        'name = "s"\n'
        "# Extra caseworkers: 1,100 at 500,000 DKK (KORA 2015, M)\n"
        "cost = 548_000_000\n"
        "other = 1\n"
        "\n"
        "# Hazard ratios (assumption, L)\n"
        "[hazard_ratios.preventive]\n"
        "home   = 0.90   # earlier help\n"
        "foster = 0.85\n"
        "# A heading for the next table\n"
        "[hazard_ratios.home]\n"
        "closed = 1.05\n"
        "# network = 1.2  # optional: a key commented out is no note of the key below it\n"
        "institution = 0.8\n",
        encoding="utf-8",
    )
    notes = scenario_notes(tmp_path / "s.toml")
    # The heading above [hazard_ratios.preventive] is no number's source (the table may merge
    # with its parent file's), and it does not slip onto the table's first line either.
    assert notes == {
        "cost": "Extra caseworkers: 1,100 at 500,000 DKK (KORA 2015, M)",
        "hazard_ratios.preventive.home": "earlier help",  # aligned keys: no spaces in the key
    }
    assert "hazard_ratios.preventive.foster" in written_keys(tmp_path / "s.toml")
    assert "hazard_ratios.preventive.closed" not in written_keys(tmp_path / "s.toml")


OUTCOME = {
    "name_da": "førtidspension",
    "name_en": "disability pension",
    "share": {"placed": 0.17},
    "reference_share": 0.02,
}


@pytest.mark.parametrize(
    "adult, key, words",
    [
        ({"years": 40}, "adult", "neither cost_per_year nor outcomes"),
        (
            {
                "cost_per_year": {"placed": 40_000},
                "outcomes": {"pension": {**OUTCOME, "cost_per_year": 250_000}},
            },
            "adult.outcomes.pension.cost_per_year",
            "count the same money twice",
        ),
        (
            {"outcomes": {"pension": {**OUTCOME, "share": {"placd": 0.17}}}},
            "adult.outcomes.pension.share.placd",
            "Did you mean 'placed'",
        ),
        (
            {"outcomes": {"pension": {**OUTCOME, "reference_share": 1.2}}},
            "adult.outcomes.pension.reference_share",
            "must be at most 1",
        ),
        ({"outcomes": {"on pension": OUTCOME}}, "adult.outcomes.on pension", "plain name"),
    ],
)
def test_bad_adult_outcomes_are_named(write_scenario, adult, key, words):
    path = write_scenario(toy_dict(adult=adult))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.key == key and words in info.value.message, info.value


def test_an_unknown_payer_gets_a_did_you_mean_and_a_quoted_inf_a_hint():
    d = toy_dict()
    d["steps"]["placed"]["payers"] = {"staten": 1.0}
    with pytest.raises(ScenarioError, match="Did you mean 'stat'"):
        Scenario.from_dict(d)
    d = toy_dict(intervention={"start_year": 2025, "fading": {"half_life_years": "inf"}})
    with pytest.raises(ScenarioError, match="write inf without quotes"):
        Scenario.from_dict(d)


def test_a_value_beyond_its_hard_limit_is_refused_naming_the_file_that_writes_it(write_scenario):
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = 1e308  # once crashed `run` in its charts
    base = write_scenario(d, "base.toml")
    plan = write_scenario({"extends": "base.toml", "name": "plan"}, "plan.toml")
    with pytest.raises(ScenarioError) as err:
        load_scenario(plan)
    assert (err.value.file, err.value.key) == (str(base), "steps.placed.cost_per_year")
    assert err.value.message.startswith("value 1e+308 is outside the allowed range 0-1,000,000,000")


def test_a_misspelt_step_under_the_initial_stock_is_named_as_one():
    d = toy_dict()
    d["population"]["initial_stock"]["lwo"] = {"children": 10}  # no age_shares, and no such step
    with pytest.raises(
        ScenarioError, match=r"initial_stock\.lwo': unknown step 'lwo'\. Did you mean 'low'\?"
    ):
        Scenario.from_dict(d)


def test_a_misspelt_step_section_is_named_as_a_new_step_with_a_hint():
    d = toy_dict()
    d["steps"]["plcaed"] = {"cost_per_year": 600_000}  # meant to change 'placed'
    with pytest.raises(
        ScenarioError, match=r"steps\.plcaed': a new step 'plcaed'.*Did you mean the step 'placed'"
    ):
        Scenario.from_dict(d)


def test_a_destination_is_never_suggested_as_its_own_step():
    d = toy_dict()
    d["transitions"]["mid"]["plcd"] = 0.1
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(d)
    assert "Allowed: low, placed, closed." in str(err.value)
    d = toy_dict(intervention={"start_year": 2025, "hazard_ratios": {"mid": {"plcd": 0.5}}})
    with pytest.raises(ScenarioError) as err:  # a hazard ratio scales a move the baseline has
        Scenario.from_dict(d)
    assert "Did you mean 'placed'? Allowed: low, placed, closed." in str(err.value)


def test_with_changes_leaves_the_callers_tables_alone():
    """A table given to with_changes, distributions and all, is the caller's after the call as before."""
    import copy

    s = load_scenario(SCENARIOS / "municipality-early-detection-uncertain.toml")
    ratios = s.to_dict()["intervention"]["hazard_ratios"]
    assert any(isinstance(v, dict) and "dist" in v for row in ratios.values() for v in row.values())
    given = copy.deepcopy(ratios)
    changed = s.with_changes({"intervention.hazard_ratios": ratios})
    assert ratios == given
    assert changed.input_hash() == s.input_hash()


def test_an_edited_file_writes_whole_numbers_whole_and_replaces_its_own_stamp_in_either_language():
    import tomllib

    from sim.scenario.files import edit_toml

    text = "[intervention]\ncost_per_year = 21_000_000  # budget 2024\nrate = 0.5\n"
    was = {"intervention": {"cost_per_year": 21_000_000.0, "rate": 0.5}}
    once = edit_toml(text, {"intervention.cost_per_year": 3e7}, "what-if page on 2026-11-27", was)
    # The comment the value had was about the old value: said so, not left to read as the new one's.
    said = "cost_per_year = 30_000_000 # what-if page on 2026-11-27 (was 21_000_000); note on the old value: budget 2024"
    assert said in once
    twice = edit_toml(
        once,
        {"intervention.cost_per_year": 2.5e7, "intervention.rate": 0.25, "intervention.extra": 1.0},
        "hvad-nu-hvis-siden den 2026-11-28",
        {"intervention": {"cost_per_year": 3e7, "rate": 0.5}},
        was_word="var",
        not_set="ikke sat",
        old_note="note til den gamle værdi",
    )
    # The Danish stamp replaces the English one, and its words; the source comment stays after them.
    assert (
        "cost_per_year = 25_000_000 # hvad-nu-hvis-siden den 2026-11-28 (var 30_000_000); "
        "note til den gamle værdi: budget 2024"
    ) in twice
    assert "rate = 0.25 # hvad-nu-hvis-siden den 2026-11-28 (var 0.5)\n" in twice
    assert "extra = 1.0 # hvad-nu-hvis-siden den 2026-11-28 (var ikke sat)" in twice
    # A stamp of an earlier version's Danish ("what-if-siden") is replaced too.
    older = once.replace("what-if page on 2026-11-27 (was", "what-if-siden den 2026-11-27 (var")
    again = edit_toml(older, {"intervention.cost_per_year": 2e7}, "what-if page on 2026-11-29", was)
    assert again.count("2026-11-27") == 0 and "(was 21_000_000); note on the old value: budget 2024" in again
    assert tomllib.loads(twice)["intervention"] == {"cost_per_year": 25_000_000, "rate": 0.25, "extra": 1.0}


def test_an_english_title_is_used_in_english_and_never_inherited_by_a_new_title(toy, write_scenario):
    from sim.outputs.language import title_of

    d = toy_dict(title="Basis", title_en="Baseline")
    base = Scenario.from_dict(d)
    assert (title_of(base, "en"), title_of(base, "da")) == ("Baseline", "Basis")
    # A new title without an English one: the old English title was of the old title.
    plan = base.with_changes({"title": "Tidlig indsats"})
    assert (title_of(plan, "en"), title_of(plan, "da")) == ("Tidlig indsats", "Tidlig indsats")
    both = base.with_changes({"title": "Tidlig indsats", "title_en": "Early help"})
    assert title_of(both, "en") == "Early help"
    assert title_of(base.with_changes({"horizon_years": 5}), "en") == "Baseline"
    write_scenario(d, "base.toml")
    child = 'extends = "base.toml"\nname = "plan"\ntitle = "Plan"\n'
    assert title_of(load_scenario(write_scenario(child, "plan.toml")), "en") == "Plan"
    # No title of its own: its own name, not the base's title (a strategy titled "Baseline" is mislabelled).
    quiet = load_scenario(write_scenario('extends = "base.toml"\nname = "quiet"\n', "quiet.toml"))
    assert (title_of(quiet, "en"), title_of(quiet, "da"), quiet.description) == ("quiet", "quiet", "")


def test_a_file_without_its_own_name_is_refused_not_named_as_its_base(write_scenario):
    """A copy of the template without its ``name`` ran, and wrote its results, as the national baseline."""
    write_scenario(toy_dict(name="national", title="National"), "base.toml")
    copy = write_scenario('extends = "base.toml"\ntitle = "Min kommune"\n', "copy.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(copy)
    assert (Path(info.value.file).name, info.value.key) == ("copy.toml", "name")
    assert "not the one it extends" in str(info.value)


def test_a_wrong_value_is_named_in_the_file_that_writes_it(write_scenario):
    """chain.toml extends base.toml, which has the negative cost: the error named chain.toml."""
    d = toy_dict()
    d["steps"]["placed"]["cost_per_year"] = -500_000
    base = write_scenario(d, "base.toml")
    chain = write_scenario('extends = "base.toml"\nname = "chain"\n', "chain.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(chain)
    assert info.value.file == str(base) and info.value.key == "steps.placed.cost_per_year"
    # A value the extending file writes itself is named in it.
    own = write_scenario(
        'extends = "base.toml"\nname = "own"\n[steps.placed]\ncost_per_year = -1\n', "own.toml"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(own)
    assert info.value.file == str(own)


def test_with_changes_takes_numpy_numbers_as_a_file_gives_python_ones(toy):
    """np.int64 from a DataFrame was refused: "must be a whole number ... (got np.int64(190))"."""
    import numpy as np

    s = toy.with_changes(
        {
            "horizon_years": np.int64(7),
            "steps.placed.cost_per_year": np.float32(600_000),
            "start_year": np.int32(2025),
        }
    )
    assert (s.horizon_years, s.steps["placed"].cost_per_year, s.start_year) == (7, 600_000, 2025)
    assert (
        type(s.horizon_years) is int
        and s.input_hash()
        == toy.with_changes(
            {"horizon_years": 7, "steps.placed.cost_per_year": 600_000.0, "start_year": 2025}
        ).input_hash()
    )
    with pytest.raises(ScenarioError, match="whole number"):
        toy.with_changes({"horizon_years": np.float64(7.5)})


def test_a_table_given_as_a_value_says_it_replaces_the_whole_table(toy):
    with pytest.raises(
        ScenarioError, match=r"replaces the whole table 'steps.placed': .*'steps.placed.<key>'"
    ):
        toy.with_changes({"steps.placed": {"cost_per_year": 500_000}})


def test_saving_into_a_folder_that_does_not_exist_says_so(toy, tmp_path):
    """It raised FileNotFoundError naming an internal file ('nodir/.x.toml.partial')."""
    from sim.errors import OptionError
    from sim.scenario import save_scenario

    with pytest.raises(OptionError, match="the folder .*nodir does not exist"):
        save_scenario(toy, tmp_path / "nodir" / "x.toml")
    assert not (tmp_path / "nodir").exists()


def test_numpy_arrays_are_refused_as_values_not_taken_apart(toy):
    import numpy as np

    for value in (np.array([12, 13]), np.array([12])):
        with pytest.raises(ScenarioError, match="whole number"):
            toy.with_changes({"horizon_years": value})


def test_a_wrong_title_in_an_extending_file_is_not_called_a_missing_name(write_scenario):
    write_scenario(toy_dict(), "base.toml")
    child = write_scenario('extends = "base.toml"\nname = "c"\ntitle = 5\n', "child.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.key == "title" and "not the one it extends" not in str(info.value)


def test_the_line_of_a_letter_not_in_utf_8_counts_from_after_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfname = 'x'\n# b\n# K\xf8ge\n")
    with pytest.raises(ScenarioError, match=r"line 3:"):
        load_scenario(path)
