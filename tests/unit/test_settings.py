"""Settings.from_env: development works on a bare machine; production refuses unsafe setups."""
from pathlib import Path

import pytest

import settings as settings_module
from settings import (
    DEV_API_KEY_PEPPER, DEV_JWT_SECRET, ConfigurationError, Settings,
)

STRONG_JWT = "j" * 40
STRONG_PEPPER = "p" * 20


@pytest.fixture
def production():
    """A complete production environment; tests spoil one thing each."""
    return {
        "BOXOFFICE_ENV": "production",
        "DATABASE_URL": "postgresql://boxoffice:pw@db:5432/boxoffice",
        "CELERY_BROKER_URL": "amqp://boxoffice:pw@rabbitmq:5672//",
        "CELERY_RESULT_BACKEND": "redis://redis:6379/1",
        "REDIS_URL": "redis://redis:6379/0",
        "JWT_SECRET_KEY": STRONG_JWT,
        "API_KEY_PEPPER": STRONG_PEPPER,
        "TICKET_SIGNING_KEY": "t" * 40,
    }


def test_development_is_the_default_environment():
    assert Settings.from_env({}).env == "development"


def test_development_defaults_to_the_embedded_spool_broker():
    s = Settings.from_env({})

    assert s.broker_url == "spool://"
    assert s.embedded_broker is True
    assert s.result_backend is None
    assert s.redis_url is None


def test_development_defaults_to_sqlite_in_the_var_dir(tmp_path):
    s = Settings.from_env({"BOXOFFICE_VAR_DIR": str(tmp_path)})

    assert s.var_dir == tmp_path.resolve()
    assert s.database_url == f"sqlite:///{tmp_path.resolve() / 'boxoffice.db'}"


def test_the_default_var_dir_is_var_in_the_project_root():
    s = Settings.from_env({})

    assert s.var_dir == Path(settings_module.__file__).resolve().parent / "var"
    assert s.database_url == f"sqlite:///{s.var_dir / 'boxoffice.db'}"


def test_a_relative_var_dir_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    s = Settings.from_env({"BOXOFFICE_VAR_DIR": "state"})

    assert s.var_dir == tmp_path.resolve() / "state"
    assert s.var_dir.is_absolute()


def test_development_defaults_to_dev_secrets_and_no_fault_injection():
    s = Settings.from_env({})

    assert s.jwt_secret_key == DEV_JWT_SECRET
    assert s.api_key_pepper == DEV_API_KEY_PEPPER
    assert s.fault_injection is False
    assert (s.payment_latency_ms, s.jwt_access_minutes, s.jwt_refresh_days) == (0, 15, 30)


def test_empty_variables_fall_back_to_the_defaults():
    s = Settings.from_env({"DATABASE_URL": "", "CELERY_BROKER_URL": "", "JWT_SECRET_KEY": "",
                           "API_KEY_PEPPER": "", "CELERY_RESULT_BACKEND": ""})

    assert s.broker_url == "spool://"
    assert s.database_url.startswith("sqlite:///")
    assert s.jwt_secret_key == DEV_JWT_SECRET
    assert s.result_backend is None


def test_from_env_reads_the_given_mapping_not_os_environ(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://from-os-environ//")

    assert Settings.from_env({}).broker_url == "spool://"


def test_from_env_reads_os_environ_without_a_mapping(monkeypatch):
    monkeypatch.setenv("BOXOFFICE_ENV", "development")
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://from-os-environ//")

    assert Settings.from_env().broker_url == "amqp://from-os-environ//"


def test_development_reads_every_override():
    s = Settings.from_env({
        "DATABASE_URL": "postgresql+psycopg2://u:p@h/db", "CELERY_BROKER_URL": "amqp://h//",
        "CELERY_RESULT_BACKEND": "redis://h/1", "REDIS_URL": "redis://h/0",
        "PAYMENT_LATENCY_MS": "250", "JWT_ACCESS_MINUTES": "5", "JWT_REFRESH_DAYS": "7",
    })

    assert (s.database_url, s.broker_url, s.result_backend, s.redis_url) == (
        "postgresql+psycopg2://u:p@h/db", "amqp://h//", "redis://h/1", "redis://h/0")
    assert s.embedded_broker is False
    assert (s.payment_latency_ms, s.jwt_access_minutes, s.jwt_refresh_days) == (250, 5, 7)


@pytest.mark.parametrize("value, enabled", [
    ("1", True), ("true", True), ("yes", True), ("", False), ("0", False), ("no", False),
])
def test_fault_injection_is_enabled_only_by_a_true_value(value, enabled):
    assert Settings.from_env({"BOXOFFICE_FAULT_INJECTION": value}).fault_injection is enabled


@pytest.mark.parametrize("env", ["staging", "prod", "Production", ""])
def test_an_unknown_environment_name_is_refused(env):
    with pytest.raises(ConfigurationError, match="BOXOFFICE_ENV"):
        Settings.from_env({"BOXOFFICE_ENV": env})


def test_production_accepts_a_complete_environment(production):
    s = Settings.from_env(production)

    assert s.env == "production"
    assert s.embedded_broker is False
    assert s.fault_injection is False
    assert s.jwt_secret_key == STRONG_JWT
    assert s.api_key_pepper == STRONG_PEPPER


def test_production_refuses_the_default_jwt_secret(production):
    del production["JWT_SECRET_KEY"]

    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        Settings.from_env(production)


def test_production_refuses_the_dev_jwt_secret_set_explicitly(production):
    production["JWT_SECRET_KEY"] = DEV_JWT_SECRET

    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        Settings.from_env(production)


def test_production_refuses_a_jwt_secret_shorter_than_32_characters(production):
    production["JWT_SECRET_KEY"] = "s" * 31

    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        Settings.from_env(production)


def test_production_accepts_a_jwt_secret_of_exactly_32_characters(production):
    production["JWT_SECRET_KEY"] = "s" * 32

    assert Settings.from_env(production).jwt_secret_key == "s" * 32


def test_production_refuses_the_default_api_key_pepper(production):
    del production["API_KEY_PEPPER"]

    with pytest.raises(ConfigurationError, match="API_KEY_PEPPER"):
        Settings.from_env(production)


def test_production_refuses_a_pepper_shorter_than_16_characters(production):
    production["API_KEY_PEPPER"] = "p" * 15

    with pytest.raises(ConfigurationError, match="API_KEY_PEPPER"):
        Settings.from_env(production)


def test_production_refuses_the_embedded_spool_broker(production):
    del production["CELERY_BROKER_URL"]

    with pytest.raises(ConfigurationError, match="CELERY_BROKER_URL"):
        Settings.from_env(production)


def test_production_refuses_an_explicit_spool_broker_url(production):
    production["CELERY_BROKER_URL"] = "spool://"

    with pytest.raises(ConfigurationError, match="CELERY_BROKER_URL"):
        Settings.from_env(production)


def test_production_refuses_the_default_sqlite_database(production):
    del production["DATABASE_URL"]

    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        Settings.from_env(production)


def test_production_refuses_an_explicit_sqlite_database(production, tmp_path):
    production["DATABASE_URL"] = f"sqlite:///{tmp_path / 'prod.db'}"

    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        Settings.from_env(production)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_production_refuses_fault_injection(production, value):
    production["BOXOFFICE_FAULT_INJECTION"] = value

    with pytest.raises(ConfigurationError, match="FAULT_INJECTION"):
        Settings.from_env(production)


@pytest.mark.parametrize("given", [
    "postgresql://u:p@db:5432/shop", "postgres://u:p@db:5432/shop",
    "postgresql+psycopg2://u:p@db:5432/shop", "PostgreSQL://u:p@db:5432/shop",
])
def test_every_usual_postgresql_url_means_the_psycopg2_driver(given):
    s = Settings.from_env({"DATABASE_URL": given})

    assert s.database_url == "postgresql+psycopg2://u:p@db:5432/shop"


def test_the_normalised_url_is_what_sqlalchemy_connects_with():
    from sqlalchemy.engine import make_url

    url = make_url(Settings.from_env({"DATABASE_URL": "postgres://u@db/shop"}).database_url)

    assert (url.get_backend_name(), url.get_driver_name()) == ("postgresql", "psycopg2")
    assert url.get_dialect().import_dbapi().__name__ == "psycopg2"


@pytest.mark.parametrize("given, named", [
    ("postgresql+psycopg://u@db/shop", "'postgresql+psycopg'"),
    ("postgresql+asyncpg://u@db/shop", "'postgresql+asyncpg'"),
    ("mysql+foo://u@db/shop", "'mysql+foo'"),
    ("mysql://u@db/shop", "'mysql'"),
    ("garbage", "a value without a scheme://"),
    ("u:secret@db/shop", "a value without a scheme://"),
])
def test_a_database_url_of_a_driver_not_installed_is_refused_naming_the_variable(given, named):
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({"DATABASE_URL": given})

    assert str(err.value).startswith("DATABASE_URL must be postgresql://")
    assert str(err.value).endswith(f"not {named}")
    assert "secret" not in str(err.value)


@pytest.mark.parametrize("given", ["amqp://g:g@h:5672//", "amqps://h//", "pyamqp://h//",
                                   "amqp://a//;amqp://b//", "spool://"])
def test_rabbitmq_and_the_embedded_spool_are_accepted_brokers(given):
    assert Settings.from_env({"CELERY_BROKER_URL": given}).broker_url == given


@pytest.mark.parametrize("given, named", [
    ("redis://u:secret@h:6379/0", "'redis'"), ("memory://", "'memory'"),
    ("amqp://a//;sqs://b", "'sqs'"), ("rabbit", "a value without a scheme://"),
])
def test_a_broker_our_queues_cannot_run_on_is_refused_naming_the_variable(given, named):
    with pytest.raises(ConfigurationError) as err:
        Settings.from_env({"CELERY_BROKER_URL": given})

    assert str(err.value).startswith("CELERY_BROKER_URL must be a RabbitMQ URL")
    assert str(err.value).endswith(f"not {named}")
    assert "secret" not in str(err.value)


def test_a_configuration_error_is_one_line_and_exit_status_1_on_any_command_line():
    from click import ClickException

    err = ConfigurationError("DATABASE_URL must be x")

    assert isinstance(err, ClickException) and err.exit_code == 1
    assert err.format_message() == "DATABASE_URL must be x"


def test_configuration_error_is_a_runtime_error_so_startup_fails_loudly():
    assert issubclass(ConfigurationError, RuntimeError)


def test_get_settings_reads_once_until_reset(monkeypatch):
    monkeypatch.setattr(settings_module, "_current", None)
    monkeypatch.setenv("BOXOFFICE_ENV", "development")
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://first//")
    first = settings_module.get_settings()
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://second//")

    assert settings_module.get_settings() is first
    settings_module.reset_settings()
    assert settings_module.get_settings().broker_url == "amqp://second//"
