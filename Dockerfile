# tocns — one image for the bot workers and the one-shot migration.
#   docker build -t tocns .
#   docker run --rm --env-file .env tocns db upgrade      # once per release, before the workers
#   docker run -d  --env-file .env -p 8080:8080 tocns run # a worker (webhook mode behind a proxy)
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/home/tocns/.cache/matplotlib TOCNS_CACHE_DIR=/home/tocns/.cache/tocns \
    TOCNS_WEB_HOST=0.0.0.0 TOCNS_WEB_PORT=8080
RUN useradd --create-home --uid 10001 tocns
WORKDIR /app

# Dependencies first, from the pinned lock file (a layer that changes only with the lock).
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md config.yaml ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY db ./db
COPY knowledge ./knowledge
COPY data ./data
# Editable, so the knowledge base, demo data and config.yaml are found beside the code (bot.kernel.ROOT).
RUN pip install --no-deps -e . \
 && su tocns -c "python -c 'import matplotlib.pyplot'"  # font cache built now, not on the first chart

USER tocns
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"TOCNS_WEB_PORT\",\"8080\")}/healthz', timeout=4)"
ENTRYPOINT ["tocns"]
CMD ["run"]
