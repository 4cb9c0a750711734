"""Opening the local store: reads never create one, a store that cannot be opened is one clear line,
and its URL or password may come from the environment without ever being shown.

Cases that need no server (a missing SQLite file, a closed port) always run; those that need the
PostgreSQL test server use ANNOTATE_TEST_POSTGRES_URL like the concurrency tests (conftest.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from annotate_local import LocalBackend
from click.testing import CliRunner
from sqlalchemy import URL, create_engine, inspect, make_url

from annotate_core import secrets
from annotate_core.cli.main import cli
from annotate_core.client import connect
from annotate_core.errors import ConfigError, NotFoundError, StoreError, StoreNotFoundError

from .conftest import make_items, make_spec

WRONG_PW = "Wr0ng-Pw-4711-xyzzy"
UNREACHABLE_PW = "Unre4ch-Pw-77-plugh"
CLOSED_PORT_URL = f"postgresql+psycopg://annotate:{UNREACHABLE_PW}@127.0.0.1:1/annotate"


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def assert_one_clean_error(result: Any, *needles: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("error: ")
    for needle in needles:
        assert needle in result.output, result.output


@pytest.fixture
def isolated_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by a test are forgotten after it: the test server's password is the word
    'annotate', which would otherwise be scrubbed from every later message of this process."""
    monkeypatch.setattr(secrets, "_known", set(secrets._known))
    monkeypatch.setattr(secrets, "_pattern", secrets._pattern)


def with_password(url: str, password: str | None) -> str:
    u = make_url(url)
    return URL.create(u.drivername, u.username, password, u.host, u.port, u.database,
                      u.query).render_as_string(hide_password=False)


# ---- reads never create a store ---------------------------------------------------------------


@pytest.mark.parametrize("command", [["status", "abc123"], ["results", "abc123"], ["jobs"]])
def test_read_commands_never_create_a_sqlite_store(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "typo.db"
    result = invoke(*command, "--db", str(typo))
    assert_one_clean_error(result, f"no annotate store at {typo}", "annotate run")
    assert not typo.exists() and list(tmp_path.iterdir()) == []


def test_a_mistyped_store_suggests_the_one_nearby(tmp_path: Path) -> None:
    with connect(driver="local", path=str(tmp_path / "annotate.db")) as client:
        job = client.create_job(make_spec())
    result = invoke("status", job.id, "--db", str(tmp_path / "anotate.db"))
    assert_one_clean_error(result, f"did you mean {tmp_path / 'annotate.db'}?")
    assert not (tmp_path / "anotate.db").exists()
    assert invoke("status", job.id, "--db", str(tmp_path / "annotate.db")).exit_code == 0


def test_a_file_without_annotate_tables_is_not_a_store_and_gets_none(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    result = invoke("jobs", "--db", str(other))
    assert_one_clean_error(result, f"no annotate store at {other} (the file holds no annotate tables)")
    with sqlite3.connect(other) as conn:
        assert conn.execute("select name from sqlite_master").fetchall() == []


def test_library_reads_never_create_but_creating_a_job_does(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    with connect(driver="local", path=str(path)) as client:
        with pytest.raises(StoreNotFoundError) as err:
            client.job("abc").progress()
        assert isinstance(err.value, NotFoundError) and err.value.backend == "local"  # the job is not there either
        with pytest.raises(StoreNotFoundError):
            client.jobs()
        assert not path.exists()
        job = client.create_job(make_spec())  # as before: the first job creates the store
        job.add_items(make_items(2), progress=False)
        assert [j["id"] for j in client.jobs()] == [job.id]


def test_compare_on_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "annotate.toml"
    config.write_text(f'[profiles.loc]\ndriver = "local"\npath = "{tmp_path / "typo.db"}"\n')
    result = invoke("--config", str(config), "compare", "loc:abc123", "--out", str(tmp_path / "report"))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"no annotate store at {tmp_path / 'typo.db'}" in result.output
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.postgres
def test_jobs_on_an_empty_postgres_database_creates_no_schema(pg_empty_url: str) -> None:
    result = invoke("jobs", "--db", pg_empty_url)
    assert_one_clean_error(result, "no annotate store at postgresql+psycopg://",
                           "(the database holds no annotate tables)")
    engine = create_engine(pg_empty_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


# ---- a store that cannot be opened ------------------------------------------------------------


def test_an_unreachable_postgres_is_one_line_without_the_password() -> None:
    result = invoke("jobs", "--db", CLOSED_PORT_URL)
    assert_one_clean_error(result, "cannot open the annotate store postgresql+psycopg://annotate:***@127.0.0.1:1/",
                           "Connection refused", "check that the database server is running and reachable at "
                           "127.0.0.1:1")
    assert UNREACHABLE_PW not in result.output
    verbose = invoke("-v", "jobs", "--db", CLOSED_PORT_URL)
    assert verbose.exit_code == 1 and "Traceback" in verbose.output and "OperationalError" in verbose.output
    assert UNREACHABLE_PW not in verbose.output


def test_the_library_raises_a_store_error_naming_the_masked_url() -> None:
    with pytest.raises(StoreError) as err:
        connect(driver="local", url=CLOSED_PORT_URL).create_job(make_spec())
    assert "127.0.0.1:1" in str(err.value) and UNREACHABLE_PW not in str(err.value)
    assert UNREACHABLE_PW not in repr(LocalBackend(url=CLOSED_PORT_URL))


@pytest.mark.postgres
def test_a_wrong_postgres_password_is_one_line_without_the_password(pg_empty_url: str) -> None:
    wrong = with_password(pg_empty_url, WRONG_PW)
    result = invoke("jobs", "--db", wrong)
    assert_one_clean_error(result, "password authentication failed", ":***@", "check the user and password")
    assert WRONG_PW not in result.output
    verbose = invoke("-v", "jobs", "--db", wrong)
    assert verbose.exit_code == 1 and "Traceback" in verbose.output and WRONG_PW not in verbose.output


@pytest.mark.postgres
def test_a_missing_postgres_database_is_one_line_with_the_fix(pg_empty_url: str) -> None:
    u = make_url(pg_empty_url)
    missing = URL.create(u.drivername, u.username, u.password, u.host, u.port, "annotate_no_such_db")
    result = invoke("jobs", "--db", missing.render_as_string(hide_password=False))
    assert_one_clean_error(result, 'database "annotate_no_such_db" does not exist', "createdb")


def test_an_unwritable_store_location_is_one_line(tmp_path: Path, examples_dir: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be\n")
    items = tmp_path / "items.csv"
    items.write_text("key,image,golden:result\na,https://example.com/a.jpg,\ng,https://example.com/g.jpg,cat\n")
    result = invoke("run", str(examples_dir / "cats_vs_dogs.yaml"), "--items", str(items),
                    "--db", str(blocker / "annotate.db"), "--no-progress")
    assert_one_clean_error(result, f"cannot open the annotate store {blocker / 'annotate.db'}",
                           f"check that the folder {blocker} exists and that you may write to it")


def test_a_file_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("these are my notes, not a database\n" * 100)
    assert_one_clean_error(invoke("jobs", "--db", str(junk)), f"cannot open the annotate store {junk}",
                           "not a database")


# ---- the URL or the password from the environment ---------------------------------------------


def test_url_env_reads_the_store_url_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "annotate.toml"
    config.write_text('[profiles.store]\ndriver = "local"\nurl_env = "MY_DB_URL"\n')
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MY_DB_URL", url)
        with connect("store", config=config) as client:
            job = client.create_job(make_spec())
            assert "from-env.db" not in repr(client)  # the whole URL is a secret: repr shows none of it
    assert (tmp_path / "from-env.db").is_file()
    listing = invoke("--config", str(config), "jobs", "--profile", "store", env={"MY_DB_URL": url})
    assert listing.exit_code == 0 and job.id in listing.output, listing.output
    missing = invoke("--config", str(config), "jobs", env={"MY_DB_URL": ""})
    assert_one_clean_error(missing, "profile 'store': option 'url' reads environment variable 'MY_DB_URL'")


def test_password_env_fills_in_the_password_and_never_shows_it(tmp_path: Path) -> None:
    config = tmp_path / "annotate.toml"
    config.write_text('[profiles.pg]\ndriver = "local"\nurl = "postgresql://annotate@127.0.0.1:1/annotate"\n'
                      'password_env = "MY_DB_PASSWORD"\n')
    env = {"MY_DB_PASSWORD": UNREACHABLE_PW}
    result = invoke("--config", str(config), "jobs", env=env)
    assert_one_clean_error(result, "cannot open the annotate store postgresql+psycopg://annotate:***@127.0.0.1:1/")
    assert UNREACHABLE_PW not in result.output
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MY_DB_PASSWORD", UNREACHABLE_PW)
        client = connect("pg", config=config)
        assert client.backend.url == f"postgresql+psycopg://annotate:{UNREACHABLE_PW}@127.0.0.1:1/annotate"
        assert UNREACHABLE_PW not in repr(client) and UNREACHABLE_PW not in client.backend.store_description()
        assert secrets.redact(f"pw={UNREACHABLE_PW}") == "pw=***"  # registered for log scrubbing


@pytest.mark.parametrize(("options", "needle"), [
    ({"path": "x.db", "password": "Pw-Only-For-Servers"}, "goes with a database server `url`"),
    ({"url": "sqlite:///x.db", "password": "Pw-Only-For-Servers"}, "not SQLite"),
    ({"url": "postgresql://u:Pw-Twice-1@h/db", "password": "Pw-Twice-2"}, "already holds a password"),
])
def test_password_needs_a_server_url_without_one(options: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as err:
        LocalBackend(**options)
    assert "Pw-" not in str(err.value)


@pytest.mark.postgres
def test_postgres_with_url_env_or_password_env(pg_empty_url: str, tmp_path: Path, isolated_secrets: None) -> None:
    password = make_url(pg_empty_url).password
    assert password
    config = tmp_path / "annotate.toml"
    no_password = with_password(pg_empty_url, None)
    config.write_text('[profiles.whole]\ndriver = "local"\nurl_env = "MY_DB_URL"\n'
                      f'[profiles.split]\ndriver = "local"\nurl = "{no_password}"\npassword_env = "MY_DB_PASSWORD"\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MY_DB_URL", pg_empty_url)
        mp.setenv("MY_DB_PASSWORD", password)
        with connect("whole", config=config) as client:
            job = client.create_job(make_spec())
            assert secrets.redact(f"pw {password}") == "pw ***"  # the password of a url_env URL is a secret
        with connect("split", config=config) as client:
            assert client.backend.store.is_postgres
            assert [j["id"] for j in client.jobs()] == [job.id]
            assert f":{password}@" not in repr(client)
