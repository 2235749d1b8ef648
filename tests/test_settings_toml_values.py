"""Values in `causerie.toml` written as TOML writes them (docs/settings.md): a list setting as an
array of texts, as the environment's comma-separated text; an array or a table anywhere else is
refused naming the key. An array was read as Python's text of it (`"['10.0.0.1']" is not an IP
address or CIDR network`), a message about no value the owner wrote."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from causerie.settings import SettingsError
from tests.test_settings import load, write_toml


def test_a_list_setting_takes_a_toml_array_of_texts(tmp_path: Path) -> None:
    write_toml(
        tmp_path,
        'trusted_proxies = ["10.0.0.1", "192.168.0.0/16"]\n'
        'CAUSERIE_SHIELD_ADMINS = ["Ada@Shop.example", "bob@shop.example"]\n',
    )
    settings = load(tmp_path)
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.1"),
        ipaddress.ip_network("192.168.0.0/16"),
    )
    assert settings.shield_admins == frozenset({"ada@shop.example", "bob@shop.example"})
    assert settings.sources["trusted_proxies"] == "causerie.toml"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'trusted_proxies = ["10.0.0.1", 7]',
            'trusted_proxies: an array of texts is expected, such as ["10.0.0.1", "10.0.0.2"]',
        ),
        ('trusted_proxies = [["10.0.0.1"]]', "trusted_proxies: an array of texts is expected"),
        ('max_body = ["64KiB"]', "max_body takes one value, written as text"),
        ("max_body = { size = 1 }", "max_body takes one value, written as text"),
        ("cookie_max_age = 1979-05-27", "cookie_max_age takes one value, written as text"),
    ],
)
def test_a_toml_value_of_the_wrong_shape_is_refused_naming_the_key(
    tmp_path: Path, line: str, message: str
) -> None:
    write_toml(tmp_path, line + "\n")
    with pytest.raises(SettingsError) as caught:
        load(tmp_path)
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'causerie.toml'}: "), text
    assert message in text, text
    assert "['" not in text, text  # no Python text of the value
