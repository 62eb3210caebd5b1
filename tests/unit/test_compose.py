"""The compose stack validates, asks for every secret, and publishes no credentials."""
import re
import subprocess

from ruamel.yaml import YAML

from harness.processes import ROOT

COMPOSE = ROOT / "docker-compose.yml"


def check(path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "scripts" / "check-compose.sh"), str(path)],
                          capture_output=True, text=True, timeout=120)


def load():
    return YAML(typ="safe").load(COMPOSE.read_text())


def test_the_compose_file_validates_and_a_broken_one_does_not(tmp_path):
    done = check(COMPOSE)
    assert done.returncode == 0, done.stdout + done.stderr

    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("condition: service_healthy",
                                                  "condition: when_it_feels_like_it", 1))
    assert check(broken).returncode == 1


def test_every_required_variable_is_in_env_example_and_given_a_placeholder():
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE.read_text()))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if re.match(r"^[A-Z_]+=", line)}

    assert {"JWT_SECRET_KEY", "API_KEY_PEPPER", "TICKET_SIGNING_KEY", "POSTGRES_PASSWORD",
            "RABBITMQ_PASSWORD", "FLOWER_BASIC_AUTH"} <= required
    assert required <= example
    script = (ROOT / "scripts" / "check-compose.sh").read_text()
    assert ":\\?" in script and "placeholder" in script  # derived from the file, not a list


def test_only_the_gateway_is_published_on_every_interface():
    services = load()["services"]
    public = {name: port for name, svc in services.items() for port in svc.get("ports", [])
              if not str(port).startswith("127.0.0.1:")}

    assert public == {"gateway": "8000:8000"}
    assert "guest" not in COMPOSE.read_text()


def test_every_long_running_service_checks_itself():
    services = load()["services"]
    for name, svc in services.items():
        if svc.get("restart") == "no":
            continue
        test = " ".join(svc["healthcheck"]["test"])
        if name.startswith("worker-"):
            queue = name.removeprefix("worker-")
            assert f"inspect ping -d {queue}@$$HOSTNAME" in test, name
        if name == "beat":
            assert "-mmin" in test  # the schedule file is fresh, not merely there
    assert services["flower"]["environment"]["FLOWER_BROKER_API"].startswith("http://")


def test_the_image_installs_the_project_after_its_locked_dependencies():
    runs = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
            if line.startswith("RUN pip install")]

    assert runs == ["RUN pip install --no-cache-dir -r requirements.lock",
                    "RUN pip install --no-cache-dir --no-deps ."]
