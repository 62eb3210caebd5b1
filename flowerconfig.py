"""Flower's settings: `celery -A workers flower` reads this file from the working directory.

Flower always asks for basic auth: ``FLOWER_BASIC_AUTH`` (required in production), or in
development the credentials `make run` prints. Task arguments reach it masked
(workers/masking.py).
"""
from workers.bootstrap import ensure as _settings
from workers.flower_auth import credentials as _credentials

basic_auth = _credentials(_settings())
