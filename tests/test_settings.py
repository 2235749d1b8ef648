"""`load_settings`: the defaults of docs/SPEC, parsing, sources and their order, refusals."""

from __future__ import annotations

import ipaddress
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from causerie.settings import S3Location, Settings, SettingsError, load_settings, parse_size


def load(data_dir: Path, **environ: str) -> Settings:
    return load_settings(environ={"CAUSERIE_DATA_DIR": str(data_dir), **environ})


def write_toml(data_dir: Path, text: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "causerie.toml").write_text(text, "utf-8")


# -- defaults ---------------------------------------------------------------------------------


def test_defaults_match_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    data_dir = tmp_path / "causerie-data"
    assert settings.data_dir == data_dir
    assert data_dir.is_dir()
    assert settings.database_url == f"sqlite:///{data_dir / 'causerie.db'}"
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.trusted_proxies == ()
    assert settings.max_body == 64 * 1024
    assert settings.max_file == 10 * 1024 * 1024
    assert settings.file_store is None  # the data folder
    assert settings.s3_endpoint is None
    assert settings.frame_rate == 20.0
    assert settings.cookie_max_age == timedelta(days=182)
    assert settings.temporary_session_ttl == timedelta(minutes=30)
    assert settings.chat_ip_retention == timedelta(days=365)
    assert settings.conversation_retention is None  # forever
    assert settings.smtp_url is None
    assert settings.access_log is True
    assert settings.log_level == "INFO"


def test_settings_are_immutable(tmp_path: Path) -> None:
    settings = load(tmp_path)
    with pytest.raises(ValidationError, match="frozen"):
        settings.max_body = 1  # type: ignore[misc]
    assert settings.max_body == 64 * 1024
    with pytest.raises(TypeError):
        settings.sources["max_body"] = "the command line"  # type: ignore[index]


# -- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("182d", timedelta(days=182)),
        (" 45 m ", timedelta(minutes=45)),
    ],
)
def test_durations(tmp_path: Path, text: str, expected: timedelta) -> None:
    settings = load(tmp_path, CAUSERIE_TEMPORARY_SESSION_TTL=text, CAUSERIE_CHAT_IP_RETENTION=text)
    assert settings.temporary_session_ttl == expected
    assert settings.chat_ip_retention == expected


def test_forever_is_allowed_only_where_documented(tmp_path: Path) -> None:
    settings = load(
        tmp_path, CAUSERIE_CHAT_IP_RETENTION="forever", CAUSERIE_CONVERSATION_RETENTION="forever"
    )
    assert settings.chat_ip_retention is None
    assert settings.conversation_retention is None
    for name in ("TEMPORARY_SESSION_TTL", "COOKIE_MAX_AGE", "PURGE_INTERVAL"):
        with pytest.raises(SettingsError, match=f"CAUSERIE_{name}"):
            load(tmp_path, **{f"CAUSERIE_{name}": "forever"})


def test_a_duration_sets_conversation_retention(tmp_path: Path) -> None:
    settings = load(tmp_path, CAUSERIE_CONVERSATION_RETENTION="90d")
    assert settings.conversation_retention == timedelta(days=90)


@pytest.mark.parametrize("text", ["soon", "30", "0m", "-5m", "1.5h", "30 minutes", "2w"])
def test_bad_durations_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_TEMPORARY_SESSION_TTL"):
        load(tmp_path, CAUSERIE_TEMPORARY_SESSION_TTL=text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("64KiB", 65536), ("1MiB", 1048576), ("65536", 65536), ("65536B", 65536), ("3 MiB", 3 << 20)],
)
def test_sizes(tmp_path: Path, text: str, expected: int) -> None:
    assert load(tmp_path, CAUSERIE_MAX_BODY=text).max_body == expected


@pytest.mark.parametrize(("text", "expected"), [("2048", 2048), ("512B", 512), ("1KiB", 1024)])
def test_small_sizes_parse(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "0KiB", "-1", "1.5MiB", "64 kilos"])
def test_bad_sizes_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_MAX_BODY"):
        load(tmp_path, CAUSERIE_MAX_BODY=text)


@pytest.mark.parametrize(
    ("name", "at_most", "over"),
    [
        ("CAUSERIE_MAX_BODY", "16MiB", ["16385KiB", "99999999999999999999KiB", "9" * 5000]),
        ("CAUSERIE_MAX_FILE", "1024MiB", ["1025MiB", "1073741825", "99999999999999999999KiB"]),
    ],
)
def test_sizes_past_their_bound_are_refused_naming_the_setting_and_bound(
    tmp_path: Path, name: str, at_most: str, over: list[str]
) -> None:
    """`CAUSERIE_MAX_BODY=99999999999999999999KiB` was taken, and `serve` started with it (a
    WebSocket frame of 4 times it held whole). Each size has a ceiling, its bound accepted."""
    field = name.removeprefix("CAUSERIE_").lower()
    assert getattr(load(tmp_path, **{name: at_most}), field) == parse_size(at_most)
    for text in over:
        with pytest.raises(SettingsError) as caught:
            load(tmp_path, **{name: text})
        message = str(caught.value)
        assert message.startswith(f"{name} = ") and "\n" not in message
        assert f"expected at most {at_most}" in message, message


@pytest.mark.parametrize(("text", "expected"), [("20/s", 20.0), ("600/m", 10.0), ("5 / s", 5.0)])
def test_rates(tmp_path: Path, text: str, expected: float) -> None:
    assert load(tmp_path, CAUSERIE_FRAME_RATE=text).frame_rate == expected


@pytest.mark.parametrize("text", ["20", "fast", "0/s", "20/h", "20/"])
def test_bad_rates_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_FRAME_RATE"):
        load(tmp_path, CAUSERIE_FRAME_RATE=text)


@pytest.mark.parametrize(
    ("text", "expected"), [("2s", 2.0), ("500ms", 0.5), ("0", 0.0), ("0s", 0.0), ("60 s", 60.0)]
)
def test_pauses(tmp_path: Path, text: str, expected: float) -> None:
    assert load(tmp_path, CAUSERIE_SHIELD_REFUSAL_PAUSE=text).shield_refusal_pause == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [("2", "such as 2s"), ("-1s", "such as 2s"), ("2m", "such as 2s"), ("61s", "at most 60s")],
)
def test_bad_pauses_are_refused(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(SettingsError, match=f"CAUSERIE_SHIELD_REFUSAL_PAUSE.*{why}"):
        load(tmp_path, CAUSERIE_SHIELD_REFUSAL_PAUSE=text)


def test_other_values(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        CAUSERIE_PUBLIC_URL="https://chat.example.org/",
        CAUSERIE_REDIS_URL="redis://127.0.0.1:6379/0",
        CAUSERIE_DATABASE_URL="postgresql://causerie@db.internal/causerie",
        CAUSERIE_ACCESS_LOG="off",
        CAUSERIE_LOG_LEVEL="debug",
        CAUSERIE_SMTP_URL="smtp://mail.example.org:587",
    )
    assert settings.public_url == "https://chat.example.org"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.database_url == "postgresql://causerie@db.internal/causerie"
    assert not settings.is_sqlite
    assert settings.access_log is False
    assert settings.log_level == "DEBUG"
    assert settings.smtp_url == "smtp://mail.example.org:587"


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("CAUSERIE_PUBLIC_URL", "chat.example.org"),
        ("CAUSERIE_PUBLIC_URL", "ftp://chat.example.org"),
        ("CAUSERIE_REDIS_URL", "http://127.0.0.1:6379"),
        ("CAUSERIE_DATABASE_URL", "mysql://db/causerie"),
        ("CAUSERIE_ACCESS_LOG", "maybe"),
        ("CAUSERIE_LOG_LEVEL", "verbose"),
        ("CAUSERIE_MAX_FILE", "10GB"),
        ("CAUSERIE_S3_ENDPOINT", "minio.internal:9000"),
    ],
)
def test_other_bad_values_are_refused(tmp_path: Path, variable: str, text: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load(tmp_path, **{variable: text})


# -- file storage -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bucket", "prefix"),
    [
        ("s3://causerie-files", "causerie-files", ""),
        ("s3://causerie-files/", "causerie-files", ""),
        ("s3://causerie-files/chat/prod", "causerie-files", "chat/prod"),
        (" s3://my.bucket-2/files/ ", "my.bucket-2", "files"),
    ],
)
def test_file_store_takes_an_s3_bucket_and_prefix(
    tmp_path: Path, text: str, bucket: str, prefix: str
) -> None:
    settings = load(
        tmp_path, CAUSERIE_FILE_STORE=text, CAUSERIE_S3_ENDPOINT="http://127.0.0.1:9000/"
    )
    assert settings.file_store == S3Location(bucket=bucket, prefix=prefix)
    assert settings.s3_endpoint == "http://127.0.0.1:9000"
    assert str(settings.file_store) == "s3://" + "/".join(filter(None, [bucket, prefix]))


@pytest.mark.parametrize(
    "text",
    [
        "folder",
        "/srv/files",
        "s3://",
        "s3://ab",
        "s3://Causerie_Files/x",
        "s3://key:secret@bucket/x",
        "s3://causerie-files/../other",
        "s3://causerie-files/a b",
        "s3://causerie-files/x?versioning=1",
        "gs://causerie-files/x",
    ],
)
def test_file_store_refuses_anything_else(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_FILE_STORE"):
        load(tmp_path, CAUSERIE_FILE_STORE=text)


def test_an_s3_endpoint_without_an_s3_file_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_S3_ENDPOINT is set, but"):
        load(tmp_path, CAUSERIE_S3_ENDPOINT="http://127.0.0.1:9000")


def test_max_file_is_a_size(tmp_path: Path) -> None:
    assert load(tmp_path, CAUSERIE_MAX_FILE="25MiB").max_file == 25 * 1024 * 1024


# -- sources ----------------------------------------------------------------------------------


def test_causerie_toml_in_the_data_folder_is_read(tmp_path: Path) -> None:
    write_toml(
        tmp_path,
        'temporary_session_ttl = "10m"\nCAUSERIE_MAX_BODY = "1MiB"\naccess_log = false\n',
    )
    settings = load(tmp_path)
    assert settings.temporary_session_ttl == timedelta(minutes=10)
    assert settings.max_body == 1 << 20
    assert settings.access_log is False
    assert "causerie.toml" in settings.sources["temporary_session_ttl"]


def test_environment_wins_over_causerie_toml(tmp_path: Path) -> None:
    write_toml(tmp_path, 'temporary_session_ttl = "10m"\nmax_body = "1MiB"\n')
    settings = load(tmp_path, CAUSERIE_TEMPORARY_SESSION_TTL="5m")
    assert settings.temporary_session_ttl == timedelta(minutes=5)
    assert "causerie.toml" not in settings.sources["temporary_session_ttl"]
    assert "causerie.toml" in settings.sources["max_body"]
    assert settings.max_body == 1 << 20  # the file still supplies what the environment does not


def test_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_MAX_BODY": "1MiB"},
        max_body="2MiB",
    )
    assert settings.max_body == 2 << 20


def test_bad_environment_value_names_the_variable_and_its_source(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, CAUSERIE_TEMPORARY_SESSION_TTL="soon")
    message = str(caught.value)
    assert "CAUSERIE_TEMPORARY_SESSION_TTL" in message
    assert "'soon'" in message
    assert "causerie.toml" not in message


def test_bad_toml_value_names_the_variable_and_the_file(tmp_path: Path) -> None:
    write_toml(tmp_path, 'temporary_session_ttl = "soon"\n')
    with pytest.raises(SettingsError) as caught:
        load(tmp_path)
    message = str(caught.value)
    assert "CAUSERIE_TEMPORARY_SESSION_TTL" in message
    assert "causerie.toml" in message


def test_unknown_key_in_causerie_toml_is_an_error(tmp_path: Path) -> None:
    write_toml(tmp_path, 'temporary_sesion_ttl = "10m"\n')
    with pytest.raises(SettingsError) as caught:
        load(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'causerie.toml'}: unknown setting 'temporary_sesion_ttl'; "
        "did you mean 'temporary_session_ttl'?"
    )


@pytest.mark.parametrize(
    "key", ["MAX_BODY", "Max_Body", "causerie_max_body", "CAUSERIE_max_body", "Causerie_MAX_BODY"]
)
def test_a_causerie_toml_key_in_another_case_is_refused_naming_both_forms(
    tmp_path: Path, key: str
) -> None:
    """A key is a setting's name in lower case, or its variable's name as the environment takes
    it (docs/settings.md); any other case was taken too, while the environment refuses it."""
    write_toml(tmp_path, f'{key} = "1MiB"\n')
    with pytest.raises(SettingsError) as caught:
        load(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'causerie.toml'}: {key!r} is not how a setting is written: "
        "write 'max_body' (or 'CAUSERIE_MAX_BODY')"
    )


@pytest.mark.parametrize("values", [("forever", "30d"), ("30d", "forever"), ("30d", "30d")])
def test_a_setting_written_twice_in_causerie_toml_is_refused_naming_both_keys(
    tmp_path: Path, values: tuple[str, str]
) -> None:
    """Its name and its variable's name are the same setting: one of the two values was taken
    silently (the last one written), whichever the owner meant."""
    write_toml(
        tmp_path,
        f'chat_ip_retention = "{values[0]}"\nCAUSERIE_CHAT_IP_RETENTION = "{values[1]}"\n',
    )
    with pytest.raises(SettingsError) as caught:
        load(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'causerie.toml'}: chat_ip_retention is set twice, as "
        "'chat_ip_retention' and as 'CAUSERIE_CHAT_IP_RETENTION': keep one"
    )


def test_sizes_are_also_a_plain_number_of_bytes(tmp_path: Path) -> None:
    """Documented (docs/settings.md): `65536` and `65536B` are 64 KiB."""
    for text in ("65536", "65536B", "64KiB", " 64 KiB "):
        assert load(tmp_path, CAUSERIE_MAX_BODY=text).max_body == 65536, text
    for text in ("64kib", "64KB", "64k", "0.5MiB", "-1", "64 GiB"):
        with pytest.raises(SettingsError, match="CAUSERIE_MAX_BODY"):
            load(tmp_path, CAUSERIE_MAX_BODY=text)


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    write_toml(tmp_path, "temporary_session_ttl = 10m\n")
    with pytest.raises(SettingsError, match=r"causerie\.toml"):
        load(tmp_path)


# -- secret key -------------------------------------------------------------------------------


def test_secret_key_is_generated_once_with_mode_600_and_kept(tmp_path: Path) -> None:
    first = load(tmp_path)
    path = tmp_path / "secret_key"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert path.read_text("ascii").strip() == first.secret_key
    assert load(tmp_path).secret_key == first.secret_key
    other = tmp_path / "other"
    assert load(other).secret_key != first.secret_key  # random, not derived from anything


def test_given_secret_key_is_used(tmp_path: Path) -> None:
    key = "k" * 40
    assert load(tmp_path, CAUSERIE_SECRET_KEY=key).secret_key == key


def test_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_SECRET_KEY"):
        load(tmp_path, CAUSERIE_SECRET_KEY="too-short")


def test_short_secret_key_file_is_refused(tmp_path: Path) -> None:
    """A key file emptied or truncated (a full disk, a bad copy) must not yield a weak key."""
    (tmp_path / "secret_key").write_text("\n", "ascii")
    with pytest.raises(SettingsError, match="secret"):
        load(tmp_path)


# -- trusted proxies and the data folder ------------------------------------------------------


def test_trusted_proxies_parse_addresses_and_cidr_networks(tmp_path: Path) -> None:
    settings = load(
        tmp_path, CAUSERIE_TRUSTED_PROXIES=" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,, 192.168.1.7/24"
    )
    assert settings.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
        ipaddress.ip_network("192.168.1.0/24"),
    )


@pytest.mark.parametrize("text", ["localhost", "10.0.0.0/33", "127.0.0.1;10.0.0.1", "*"])
def test_trusted_proxies_refuse_junk(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError, match="CAUSERIE_TRUSTED_PROXIES"):
        load(tmp_path, CAUSERIE_TRUSTED_PROXIES=text)


def test_the_data_folder_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b" / "data"
    settings = load(data_dir)
    assert settings.data_dir == data_dir
    assert data_dir.is_dir()
    assert settings.database_url == f"sqlite:///{data_dir / 'causerie.db'}"


def test_a_data_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingsError, match="CAUSERIE_DATA_DIR"):
        load(blocker / "data")


# -- what the declarations promise ------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("CAUSERIE_DATABASE_URL", "mysql://causerie:hunter2-password@db/causerie"),
        ("CAUSERIE_SMTP_URL", "smtp://mail:hunter2-password@mail.example.org:smtp"),
        ("CAUSERIE_REDIS_URL", "http://:hunter2-password@127.0.0.1:6379"),
        ("CAUSERIE_SECRET_KEY", "hunter2-password"),
    ],
)
def test_a_value_that_may_hold_a_password_is_never_shown(
    tmp_path: Path, variable: str, text: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, **{variable: text})
    assert str(caught.value).startswith(f"{variable} (value hidden) (from the environment): ")
    assert "hunter2" not in str(caught.value)


def test_secrets_stay_out_of_the_repr(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        CAUSERIE_SECRET_KEY="s" * 40,
        CAUSERIE_SMTP_URL="smtp://mail:hunter2@mail.example.org:587",
        CAUSERIE_DATABASE_URL="postgresql://causerie:hunter2@db/causerie",
    )
    shown = repr(settings)
    assert "s" * 40 not in shown
    assert "hunter2" not in shown
    assert "max_body=65536" in shown


def test_of_several_bad_values_the_first_in_the_docs_order_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load(
            tmp_path, CAUSERIE_LOG_LEVEL="loud", CAUSERIE_FRAME_RATE="fast", CAUSERIE_MAX_BODY="big"
        )
    assert str(caught.value) == (
        "CAUSERIE_MAX_BODY = 'big' (from the environment): "
        "expected a positive size such as 64KiB or 1MiB"
    )


def test_the_exact_message_names_value_source_and_what_was_expected(tmp_path: Path) -> None:
    write_toml(tmp_path, 'chat_ip_retention = "ever"\n')
    with pytest.raises(SettingsError) as caught:
        load(tmp_path)
    assert str(caught.value) == (
        "CAUSERIE_CHAT_IP_RETENTION = 'ever' (from causerie.toml): expected a positive number "
        "and a unit s, m, h or d (e.g. 30m), or 'forever'"
    )


def test_causerie_toml_cannot_move_the_data_folder(tmp_path: Path) -> None:
    write_toml(tmp_path, 'data_dir = "/elsewhere"\n')
    with pytest.raises(SettingsError, match="data_dir cannot be set in the file that lives in it"):
        load(tmp_path)


def test_toml_numbers_and_booleans_are_read_as_their_text(tmp_path: Path) -> None:
    write_toml(tmp_path, "shield_block_score = 5\npush_allow_private = true\n")
    settings = load(tmp_path)
    assert settings.shield_block_score == 5
    assert settings.push_allow_private is True


def test_sources_name_where_each_value_came_from(tmp_path: Path) -> None:
    write_toml(tmp_path, 'max_file = "1MiB"\n')
    settings = load_settings(
        environ={"CAUSERIE_DATA_DIR": str(tmp_path), "CAUSERIE_MAX_BODY": "1MiB"},
        public_url="https://chat.example.org",
    )
    assert settings.sources["public_url"] == "the command line"
    assert settings.sources["max_body"] == "the environment"
    assert settings.sources["max_file"] == "causerie.toml"
    assert settings.sources["frame_rate"] == "the default"
    assert settings.sources["secret_key"] == "the default"  # the data folder's key file


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("CAUSERIE_DATABSE_URL", "CAUSERIE_DATABASE_URL"),
        ("CAUSERIE_DATABASE_URI", "CAUSERIE_DATABASE_URL"),
        ("CAUSERIE_FRAME_RATES", "CAUSERIE_FRAME_RATE"),
        ("CAUSERIE_MAX_BODY_SIZE", "CAUSERIE_MAX_BODY"),
        ("causerie_max_body", "CAUSERIE_MAX_BODY"),
        ("Causerie_Secret_Key", "CAUSERIE_SECRET_KEY"),
    ],
)
def test_a_misspelt_variable_stops_naming_the_setting_it_is_close_to(
    tmp_path: Path, variable: str, meant: str
) -> None:
    """It used to be ignored: CAUSERIE_DATABSE_URL=postgresql://... ran on a fresh SQLite file."""
    data_dir = tmp_path / "data"
    with pytest.raises(SettingsError) as caught:
        load(data_dir, CAUSERIE_PUBLIC_URL="https://chat.example.org", **{variable: "x"})
    assert str(caught.value) == (
        f"{variable} (from the environment) is not a setting; did you mean {meant}?"
    )
    assert not data_dir.exists()  # refused before anything is created


def test_variables_close_to_no_setting_are_ignored_and_listed(tmp_path: Path) -> None:
    """A plugin's own (the examples' CAUSERIE_BRIDGE_*, CAUSERIE_AWAY_REPLY_*) and the tools'
    (CAUSERIE_TEST_REDIS) are left alone, listed for the commands' warning."""
    settings = load(
        tmp_path,
        CAUSERIE_MAX_BODY="1MiB",
        CAUSERIE_BRIDGE_URL="https://hooks.example.org/x",
        CAUSERIE_AWAY_REPLY_OPERATOR="bot@example.org",
        CAUSERIE_TEST_REDIS="redis://127.0.0.1:6379/3",
        CAUSERIE_DB_URL="postgresql://elsewhere/db",
        CAUSERIEMAX_BODY="ignored: not under the prefix",
    )
    assert settings.max_body == 1 << 20
    assert settings.unknown_variables == (
        "CAUSERIE_AWAY_REPLY_OPERATOR",
        "CAUSERIE_BRIDGE_URL",
        "CAUSERIE_DB_URL",
        "CAUSERIE_TEST_REDIS",
    )
    assert load(tmp_path).unknown_variables == ()


def test_settings_built_directly_read_no_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAUSERIE_MAX_BODY", "1KiB")
    settings = Settings(data_dir=str(tmp_path), database_url="sqlite://", secret_key="k" * 32)
    assert settings.max_body == 64 * 1024
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ValidationError, match="expected text"):
        Settings(data_dir=tmp_path, database_url="sqlite://", secret_key="k" * 32)
