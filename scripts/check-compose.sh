#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine.
#
#   scripts/check-compose.sh [path/to/docker-compose.yml]
#
# Uses `docker compose config -q` when the compose plugin is installed (it parses and
# interpolates locally, no engine needed). Otherwise validates against the compose-spec
# JSON schema with check-jsonschema (on PATH or in .venv: `pip install check-jsonschema`),
# then checks what the schema cannot see: depends_on targets, named volumes, variable
# syntax, and a healthcheck on every long-running service.
# Exits 0 on a valid file, 1 on an invalid one, 2 when no validator is available.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="${1:-$ROOT/docker-compose.yml}"

if [[ ! -f "$FILE" ]]; then
    echo "check-compose: no such file: $FILE" >&2
    exit 1
fi

# Every variable the file requires (${VAR:?...}) gets a placeholder unless already set:
# any value does for validation.
for var in $(grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*:\?' "$FILE" | sed -E 's/^\$\{//; s/:\?$//' | sort -u); do
    if [[ -z "${!var:-}" ]]; then
        export "$var=check-compose-placeholder-0123456789abcdef"
    fi
done

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    echo "check-compose: docker compose config -q $FILE"
    if docker compose -f "$FILE" config -q; then
        echo "check-compose: OK (docker compose config)"
        exit 0
    fi
    echo "check-compose: INVALID (docker compose config)" >&2
    exit 1
fi

CJS=""
if command -v check-jsonschema >/dev/null 2>&1; then
    CJS="$(command -v check-jsonschema)"
elif [[ -x "$ROOT/.venv/bin/check-jsonschema" ]]; then
    CJS="$ROOT/.venv/bin/check-jsonschema"
fi
if [[ -z "$CJS" ]]; then
    echo "check-compose: neither 'docker compose' nor check-jsonschema is available;" >&2
    echo "check-compose: install one, e.g. '$ROOT/.venv/bin/pip install check-jsonschema'" >&2
    exit 2
fi

echo "check-compose: $CJS --builtin-schema vendor.compose-spec $FILE"
if ! "$CJS" --builtin-schema vendor.compose-spec "$FILE"; then
    echo "check-compose: INVALID (compose-spec schema)" >&2
    exit 1
fi

# check-jsonschema's own interpreter has ruamel.yaml; the checks below need it.
PY=""
for candidate in "$(dirname "$CJS")/python3" "$(dirname "$CJS")/python"; do
    if [[ -x "$candidate" ]] && "$candidate" -c 'import ruamel.yaml' 2>/dev/null; then
        PY="$candidate"
        break
    fi
done
if [[ -z "$PY" ]]; then
    echo "check-compose: OK (schema only: no Python with ruamel.yaml beside $CJS for the semantic checks)"
    exit 0
fi

if ! "$PY" - "$FILE" <<'PYEOF'
import re
import sys

from ruamel.yaml import YAML

path = sys.argv[1]
doc = YAML(typ="safe").load(open(path, encoding="utf-8"))
services = doc.get("services") or {}
volumes = doc.get("volumes") or {}
errors = []

# ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:?x}, ${VAR?x}, ${VAR:+x}, ${VAR+x}, $VAR, $$ (literal $)
VAR = re.compile(r"\$(\$|\{[A-Za-z_][A-Za-z0-9_]*(:?[-?+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)")


def walk(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}[{i}]")
    elif isinstance(node, str) and "$" in node:
        rest = VAR.sub("", node)
        if "$" in rest:
            errors.append(f"{where}: bad variable syntax in {node!r} (a literal $ is written $$)")


walk(doc, "$")

for name, svc in services.items():
    svc = svc or {}
    deps = svc.get("depends_on") or []
    for dep in deps:  # a list of names or a mapping name -> {condition: ...}
        if dep not in services:
            errors.append(f"services.{name}.depends_on: no service named {dep!r}")
    for vol in svc.get("volumes") or []:
        if isinstance(vol, dict):
            source = vol.get("source") if vol.get("type", "volume") == "volume" else None
        else:
            source = str(vol).split(":")[0] if ":" in str(vol) else None
        if source and not source.startswith((".", "/", "~", "$")) and source not in volumes:
            errors.append(f"services.{name}.volumes: named volume {source!r} not declared")
    # Every service needs a healthcheck, except a one-shot job (restart: "no" set explicitly).
    one_shot = "restart" in svc and str(svc["restart"]) == "no"
    hc = svc.get("healthcheck")
    if not one_shot and (not hc or hc.get("disable")):
        errors.append(f"services.{name}: no healthcheck")
    # A healthcheck runs in the container: a $VAR there is almost surely meant as $$VAR,
    # not filled in from the host's environment by compose.
    test = (hc or {}).get("test") or []
    for part in [test] if isinstance(test, str) else test:
        if re.search(r"(?<!\$)\$(\{|[A-Za-z_])", str(part).replace("$$", "")):
            errors.append(f"services.{name}.healthcheck.test: {part!r} is filled in from the host; write $$VAR for the container's")

for e in errors:
    print(f"  {path}::{e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF
then
    echo "check-compose: INVALID (semantic checks)" >&2
    exit 1
fi
echo "check-compose: OK (compose-spec schema + semantic checks)"
