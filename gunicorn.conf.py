"""Gunicorn settings for `make run`; override with GUNICORN_* or QUIZAPP_WORKERS/THREADS."""

import multiprocessing
import os

bind = os.environ.get("QUIZAPP_BIND", "127.0.0.1:8000")
# With SQLite, writers queue on one file: about one process per core serves best.
workers = int(os.environ.get("QUIZAPP_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("QUIZAPP_THREADS", 4))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("QUIZAPP_ACCESS_LOG", "-")
