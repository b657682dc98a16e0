"""No Docker engine runs here: the compose file and Dockerfile are checked for what they promise the guide's
commands (`docker-compose exec notifications-service python manage.py start_kafka_consumer`, `logs kafka`)."""

from __future__ import annotations

import re
import shlex

import dj_database_url
import yaml
from django.core.management import get_commands

from tests.shared import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SERVICES = COMPOSE["services"]


def _command(service: dict) -> list[str]:
    command = service.get("command")
    if command is None:
        cmd = re.search(r"^CMD (.+)$", DOCKERFILE, re.M)
        assert cmd, "Dockerfile has no CMD"
        command = yaml.safe_load(cmd.group(1))
    if isinstance(command, str):
        command = shlex.split(command)
    return command


def _manage_commands(service: dict) -> list[str]:
    words = " ".join(_command(service))
    return re.findall(r"manage\.py (\w+)", words)


def test_the_guides_services_exist():
    assert {"notifications-service", "kafka", "postgres", "consumer", "worker"} <= set(SERVICES)


def test_every_manage_py_command_used_exists():
    known = set(get_commands())
    for name, service in SERVICES.items():
        for command in _manage_commands(service) if name not in {"kafka", "postgres"} else []:
            assert command in known, f"{name} runs unknown command {command}"
    assert "start_kafka_consumer" in known and "seed_event_templates" in known


def test_notifications_service_image_can_run_the_guides_exec_command():
    service = SERVICES["notifications-service"]
    assert service["build"] == "."
    assert re.search(r"^WORKDIR /app$", DOCKERFILE, re.M)
    assert "COPY manage.py ./" in DOCKERFILE  # `python manage.py ...` works in the working directory
    assert "pip install --no-cache-dir ." in DOCKERFILE
    assert "FROM python:3.11" in DOCKERFILE
    assert _manage_commands(service) == ["migrate", "serve"]


def test_processes_share_kafka_and_postgres_settings():
    kafka_env = SERVICES["kafka"]["environment"]
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"].split("//", 1)[1]
    postgres_env = SERVICES["postgres"]["environment"]
    for name in ("notifications-service", "consumer", "worker"):
        env = SERVICES[name]["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == advertised
        db = dj_database_url.parse(env["DATABASE_URL"])
        assert (db["HOST"], db["NAME"], db["USER"], db["PASSWORD"]) == (
            "postgres", postgres_env["POSTGRES_DB"], postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_PASSWORD"]
        )
        depends = SERVICES[name]["depends_on"]
        assert depends["kafka"]["condition"] == depends["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in SERVICES["kafka"] and "healthcheck" in SERVICES["postgres"]


def test_kafka_is_a_single_node_kraft_broker():
    env = SERVICES["kafka"]["environment"]
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:4.")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1
    assert SERVICES["consumer"]["command"] == ["python", "manage.py", "start_kafka_consumer"]
    assert SERVICES["worker"]["command"] == ["python", "manage.py", "run_delivery_worker"]
