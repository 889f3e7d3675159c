"""gunicorn settings for every Flywheel web server: the Docker image, docker-compose, `make demo`
and ``bench/load.py`` (gunicorn reads ``./gunicorn.conf.py`` from the directory it starts in;
flags on the command line win).

gthread workers rather than sync ones (measured in ``bench/load.py``, bench/RESULTS.md): a sync
worker closes the connection after every response, so each browser request reconnects, and it
idles through each request's database round trips and the commit's fsync, which a gthread
worker's threads overlap. Each thread keeps its own persistent PostgreSQL connection
(``FLYWHEEL_CONN_MAX_AGE``), so workers × threads must fit PostgreSQL's ``max_connections``
beside the Celery workers.
"""

import os

bind = os.environ.get("FLYWHEEL_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("FLYWHEEL_WEB_WORKERS", "2"))
threads = int(os.environ.get("FLYWHEEL_WEB_THREADS", "4"))
# Longer than a browser's pause between an annotator's requests is useless; shorter than a
# load balancer's idle timeout avoids a reused connection being closed under a request.
keepalive = 15
timeout = 60
graceful_timeout = 15
accesslog = "-"
