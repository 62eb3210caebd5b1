"""The Celery configuration is a function of the settings, overridable from the environment."""
from celeryconfig import celery_config
from settings import Settings


def config(**environ) -> dict:
    return celery_config(Settings.from_env({"BOXOFFICE_VAR_DIR": "/srv/state", **environ}))


def test_celery_settings_are_overridden_from_the_environment_as_json_or_strings():
    conf = config(CELERY_WORKER_CONCURRENCY="4", CELERY_TASK_ACKS_LATE="false",
                  CELERY_WORKER_CONSUMER="my.consumer:Consumer", CELERY_NOT_A_SETTING="1")

    assert conf["worker_concurrency"] == 4
    assert conf["task_acks_late"] is False
    assert conf["worker_consumer"] == "my.consumer:Consumer"
    assert "not_a_setting" not in conf
    assert config()["worker_concurrency"] == 2


def test_workers_run_their_tasks_in_pool_children_unless_told_otherwise():
    assert (config()["worker_pool"], config()["worker_prefetch_multiplier"]) == ("prefork", 1)
    assert config(CELERY_WORKER_POOL="solo")["worker_pool"] == "solo"


def test_the_broker_and_the_queues_come_from_the_settings():
    conf = config(CELERY_BROKER_URL="amqp://u:p@rabbit:5672/shop", CELERY_QUEUE_DELIVERY_LIMIT="3")

    assert conf["broker_url"] == "amqp://u:p@rabbit:5672/shop"
    assert conf["broker_transport_options"] == {"confirm_publish": True}
    assert [q.name for q in conf["task_queues"]] == ["tickets", "payments", "orchestration", "users"]
    assert {q.queue_arguments["x-delivery-limit"] for q in conf["task_queues"]} == {3}


def test_the_embedded_broker_spools_under_the_state_directory():
    conf = config()

    assert conf["broker_url"] == "spool://"
    assert conf["broker_transport_options"]["data_folder_in"] == "/srv/state/broker/queue"
    assert conf["beat_schedule_filename"] == "/srv/state/celerybeat-schedule"


def test_beat_periods_follow_their_overrides():
    schedule = config(CELERY_OUTBOX_RELAY_SECONDS="1.5", CELERY_WATCHDOG_SECONDS="30")["beat_schedule"]

    assert schedule["relay-outbox"] == {"task": "orchestration.relay_outbox", "schedule": 1.5}
    assert schedule["relay-task-outbox"]["schedule"] == 1.5
    assert schedule["expire-holds"] == {"task": "tickets.expire_holds", "schedule": 5.0}
    assert schedule["saga-watchdog"]["schedule"] == 30.0
