"""The Docker image's install steps, run in a fresh virtualenv: the project's own
commands (`celery -A workers saga ...`) exist afterwards.

No Docker engine is needed: the Dockerfile's `RUN pip install` lines are run as written
against a copy of the files `COPY` would send, except `--no-cache-dir`, dropped so that
pip's cache serves the downloads (still a few minutes: a whole install).
"""
import os
import shlex
import shutil
import subprocess
import venv

from harness.processes import ROOT


def dockerfile_pip_installs() -> list[list[str]]:
    commands = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("RUN pip install"):
            words = shlex.split(line.removeprefix("RUN "))
            commands.append([w for w in words if w != "--no-cache-dir"])
    return commands


def build_context(dest):
    """The files `COPY . .` sends: the tree as git sees it, less what is ignored."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for rel in listed:
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def test_the_images_install_steps_give_the_saga_commands(tmp_path):
    context, env_dir, elsewhere = tmp_path / "app", tmp_path / "venv", tmp_path / "run"
    context.mkdir()
    elsewhere.mkdir()
    build_context(context)
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"

    commands = dockerfile_pip_installs()
    assert [c[-1] for c in commands] == ["requirements.lock", "."]
    for command in commands:
        done = subprocess.run([str(bin_dir / "python"), "-m", *command], cwd=context, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # run from another directory: the installed project, not the source tree, answers
    for args in (["saga", "--help"], ["saga", "dlq", "--help"]):
        done = subprocess.run([str(bin_dir / "celery"), "-A", "workers", *args], cwd=elsewhere,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Usage" in done.stdout
    assert "replay" in done.stdout and "purge" in done.stdout
