# boxoffice: one image for the gateway, the Celery workers, beat, flower and migrations.
# The command each service runs is chosen in docker-compose.yml; the default is the gateway.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOXOFFICE_VAR_DIR=/app/var

WORKDIR /app

# Unprivileged user the processes run as; the code stays owned by root (read-only to it).
RUN groupadd --system --gid 10001 boxoffice \
 && useradd --system --uid 10001 --gid boxoffice --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin boxoffice

# Dependencies first, so that a change of the code alone reuses this layer.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
# The project itself, so that its entry points exist: `celery -A workers saga ...`.
RUN pip install --no-cache-dir --no-deps .

# The only place the app writes to (celerybeat schedule, local state).
RUN mkdir -p /app/var && chown boxoffice:boxoffice /app/var

USER boxoffice

EXPOSE 8000

CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "12", "api:create_app()"]
