# syntax=docker/dockerfile:1
# One image for every Taskcraft role; the command picks it:
#   python worker.py | taskcraft codec-server ... | taskcraft inbox ... | taskcraft <cli>
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TASKCRAFT_DATA_DIR=/data \
    TASKCRAFT_METRICS_PORT=9464

WORKDIR /app

# Dependencies first, exactly as locked (every file checked against its hash), so a
# source change reuses this layer. Regenerate the lock with:
#   uv pip compile pyproject.toml --extra ... --generate-hashes -o requirements.lock
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock

# The project itself; its dependencies are all in the lock, so nothing else is resolved.
# The worker imports workflows/ from /app, which stays read-only at run time: compile it
# here, or the workflow sandbox compiles those modules from source for every new task.
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && python -m compileall -q /app \
    && groupadd --system --gid 10001 taskcraft \
    && useradd --system --uid 10001 --gid taskcraft --home-dir /home/taskcraft --create-home taskcraft \
    && mkdir -p /data \
    && chown taskcraft:taskcraft /data

# The code stays root-owned and read-only to the process; only /data is writable.
USER taskcraft
EXPOSE 9464

# The worker serves Prometheus metrics; a worker that stopped serving them is unhealthy.
# Other roles (codec server, inbox) override this check in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TASKCRAFT_METRICS_PORT', '9464') + '/metrics', timeout=4)"]

CMD ["python", "worker.py"]
