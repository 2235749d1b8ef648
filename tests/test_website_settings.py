"""Website settings: one declaration in the domain (`domain/websites.py` SETTINGS), read by both
`check_settings` and the API's request model, so their fields and limits cannot drift apart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pydantic import ValidationError

from causerie.domain.errors import Invalid
from causerie.domain.retention import WEBSITE_RULES
from causerie.domain.websites import DEFAULT_SETTINGS, SETTINGS, Setting, check_settings
from causerie.web.api_models import SettingsPatch

LIMITS = {rule.value: timedelta(days=30) for rule in WEBSITE_RULES}


def test_the_api_model_has_exactly_the_domain_settings() -> None:
    names = [setting.name for setting in SETTINGS]
    composite = ["retention", "business_hours", "auto_resolve_minutes"]  # checked by the domain
    assert list(SettingsPatch.model_fields) == [*names, *composite]
    assert set(DEFAULT_SETTINGS) == {*names, *composite, "consent_version"}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_each_default_passes_both_checks(setting: Setting) -> None:
    name = setting.name
    value = DEFAULT_SETTINGS[name]
    assert check_settings(DEFAULT_SETTINGS, {name: value}, LIMITS)[name] == value
    SettingsPatch.model_validate({name: value})


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if s.max_length], ids=lambda setting: setting.name
)
def test_a_text_over_its_limit_is_refused_by_both(setting: Setting) -> None:
    name, limit = setting.name, setting.max_length
    too_long = "#" + "a" * limit
    with pytest.raises(Invalid, match=f"settings.{name}: "):
        check_settings(DEFAULT_SETTINGS, {name: too_long}, LIMITS)
    with pytest.raises(ValidationError):
        SettingsPatch.model_validate({name: too_long})


def test_a_choice_outside_the_list_is_refused_by_both() -> None:
    for setting in (s for s in SETTINGS if s.choices):
        with pytest.raises(Invalid, match=re.escape(f"settings.{setting.name}: {setting.hint}")):
            check_settings(DEFAULT_SETTINGS, {setting.name: "middle"}, LIMITS)
        with pytest.raises(ValidationError):
            SettingsPatch.model_validate({setting.name: "middle"})


def test_retention_days_share_one_limit() -> None:
    rule = WEBSITE_RULES[0].value
    for days in (0, 36501):
        with pytest.raises(Invalid, match="from 1 to 36500"):
            check_settings(DEFAULT_SETTINGS, {"retention": {rule: days}}, {rule: None})
        with pytest.raises(ValidationError):
            SettingsPatch.model_validate({"retention": {rule: days}})
    kept = check_settings(DEFAULT_SETTINGS, {"retention": {rule: 36500}}, {rule: None})
    assert kept["retention"] == {rule: 36500}
