# Lantern's image: the bot and its runtime dependencies (no dev tools). See README,
# "Running at scale", and compose.yaml for several processes on PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first, exactly as locked (every package pinned with its hashes; cached while only
# the code changes), then the project itself with nothing more fetched.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
COPY cogs/__init__.py cogs/__init__.py
RUN pip install --no-deps --no-build-isolation -e .

COPY bot bot
COPY cogs cogs
COPY data data
COPY config.example.toml config.toml

RUN useradd --create-home --uid 10001 lantern && mkdir -p /app/var && chown lantern /app/var
USER lantern

# [metrics] port in the config files under deploy/.
EXPOSE 9100
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/readyz', timeout=4)"

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run", "--config", "config.toml"]
