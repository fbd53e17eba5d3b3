"""JSON-lines logging, one object per record, so CloudWatch Logs Insights can query fields."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

from worker_lib import config

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged as a field.
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


def get_logger(name: str) -> logging.Logger:
    """Return a logger writing JSON lines to stdout (which Lambda sends to CloudWatch Logs).

    The Lambda Python runtime installs its own handler on the root logger; we log on a named
    logger that does not propagate, so each record is written once, in our format.
    """
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(config.optional("LOG_LEVEL", "INFO").upper())
    return logger
