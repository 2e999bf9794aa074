"""``glyphflow serve``: load the model, then answer HTTP on ``host:port`` until stopped.

Serving writes no output folder, so :func:`run` returns no manifest. With ``workers: 1``
the app is built here (a bad model URI fails before the port opens); with more, uvicorn
starts that many processes, each building the app from the config passed in the
``GLYPHFLOW_SERVING_CONFIG`` environment variable.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from glyphflow.core.errors import MissingDependencyError
from glyphflow.serving.config import ServingConfig

__all__ = ["run"]

_log = logging.getLogger(__name__)


def run(config: ServingConfig, **options: Any) -> None:
    """Serve ``config.model`` until interrupted; ``options`` override host/port."""
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError("the HTTP service", "serve", "uvicorn") from None
    if options:
        config = config.model_copy(update={k: v for k, v in options.items() if v is not None})
    common: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": config.log_level,
        "timeout_keep_alive": 5,
    }
    if config.workers == 1:
        from glyphflow.serving.app import create_app

        app = create_app(config)
        _log.info(
            "serving %s (model %s) on http://%s:%d/",
            config.model,
            app.state.served.model_id,
            config.host,
            config.port,
        )
        uvicorn.run(app, **common)
        return None
    os.environ["GLYPHFLOW_SERVING_CONFIG"] = config.model_dump_json(by_alias=True)
    _log.info(
        "serving %s with %d workers on %s:%d",
        config.model,
        config.workers,
        config.host,
        config.port,
    )
    uvicorn.run(
        "glyphflow.serving.app:app_from_environment",
        factory=True,
        workers=config.workers,
        **common,
    )
    return None
