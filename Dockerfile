# syntax=docker/dockerfile:1
# One image for every Flywheel process: web (gunicorn), Celery workers and beat
# (see docker-compose.yml). Local runs without Docker: `make demo`.

# --- frontend: Vite builds frontend/dist, which Django serves at /static/ -----------------
FROM node:22-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- app --------------------------------------------------------------------------------
FROM python:3.11-slim

# CPU wheels by default. A GPU image swaps the index for a CUDA one, e.g.
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    FLYWHEEL_MODELS_DIR=/models

WORKDIR /app

# torch first, from its own index: otherwise a transitive requirement pulls the default
# (CUDA) build from PyPI.
RUN pip install torch==2.13.0 --index-url "$TORCH_INDEX_URL"

# The other dependencies, read from pyproject.toml, before the source: a code change does
# not reinstall them. The project itself runs from /app (PYTHONPATH), not installed.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(deps))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY manage.py gunicorn.conf.py ./
COPY flywheel/ flywheel/
COPY annotation/ annotation/
COPY training/ training/
COPY loop/ loop/
COPY webhooks/ webhooks/
COPY tinyworld/ tinyworld/
COPY --from=frontend /src/frontend/dist frontend/dist

# Static files (admin, DRF, Swagger UI, frontend) collected and compressed at build time;
# settings need some database URL and key to load, neither is used here.
RUN DATABASE_URL=postgres://unused@localhost/unused SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 flywheel \
    && mkdir -p /models /app/var \
    && chown flywheel:flywheel /models /app/var
USER flywheel

EXPOSE 8000
# Workers, threads and the rest: gunicorn.conf.py (FLYWHEEL_WEB_WORKERS, FLYWHEEL_WEB_THREADS).
CMD ["gunicorn", "flywheel.wsgi"]
