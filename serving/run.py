"""`recsys serve`: uvicorn running the app on a workspace."""

from __future__ import annotations

import json
import os
import signal

from recsys.core.workspace import Workspace

# Each request does small matrix work; math libraries spinning up one thread per core for it
# only fight the request threads for CPU. One thread each, unless the operator says otherwise.
SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_math_threads() -> None:
    """One math thread per request thread (env for libraries not loaded yet, live for others).

    Libraries already loaded (numpy's BLAS, FAISS's OpenMP after `recsys demo` built an index)
    read the environment only at start-up, so their pools are capped live as well.
    """
    from threadpoolctl import threadpool_limits

    for var in SINGLE_THREADED:
        os.environ.setdefault(var, "1")
    threadpool_limits(int(os.environ["OMP_NUM_THREADS"]))  # BLAS and OpenMP pools alike


def run_server(
    ws: Workspace,
    host: str = "127.0.0.1",
    port: int = 8000,
    grace_seconds: float | None = None,
    public_user_pages: bool | None = None,
    workers: int = 1,
) -> str:
    """Serve API + web page until Ctrl-C or SIGTERM; settings also read ``RECSYS_*``.

    SIGTERM stops accepting connections, lets in-flight requests finish (at most
    ``grace_seconds``, default ``RECSYS_SHUTDOWN_GRACE_SECONDS``), runs the lifespan shutdown
    and returns: exit status 0. ``public_user_pages`` overrides the setting (the local demo
    lists its synthetic users).

    ``workers > 1`` runs that many uvicorn worker processes on the port, each loading the run
    (its arrays memory-mapped, so the page cache holds one copy), reloading it on its own and
    following the event log for the others' events.
    """
    signal.signal(signal.SIGTERM, _stop)  # from here on, also before uvicorn takes over
    limit_math_threads()
    import uvicorn

    from serving.app import create_app
    from serving.settings import Settings

    settings = Settings(workspace=ws.root, lancedb_uri=ws.store_uri)
    if public_user_pages is not None:
        settings = settings.model_copy(update={"public_user_pages": public_user_pages})
    if workers > 1:
        # worker processes build the app themselves, from the environment (the entry point
        # hands them what it was told)
        os.environ.update(settings_env(settings))
        app: object = "serving.app:create_app"
    else:
        app = create_app(settings)
    try:
        uvicorn.run(
            app,  # type: ignore[arg-type]
            factory=workers > 1,
            workers=workers if workers > 1 else None,
            host=host,
            port=port,
            log_level="info",
            log_config=log_config(),
            access_log=False,
            # uvicorn takes whole seconds
            timeout_graceful_shutdown=round(
                settings.shutdown_grace_seconds if grace_seconds is None else grace_seconds
            ),
        )
    except SystemExit as exc:
        if exc.code not in (0, None):  # uvicorn's own failures (port taken: 3) stay failures
            raise
    return "serve: stopped"


def log_config() -> dict:
    """uvicorn's logging set-up plus our packages' INFO lines ("engine run-x ready in 2.1s").

    uvicorn applies it in every worker process too, so each worker reports its own loads.
    """
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    ours = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"].update({name: dict(ours) for name in ("serving", "recsys")})
    return config


def settings_env(settings) -> dict[str, str]:
    """``RECSYS_*`` variables that rebuild ``settings`` in a worker process."""
    env = {}
    for name, value in settings.model_dump(exclude_defaults=True).items():
        if value is None:
            continue
        text = json.dumps([str(v) for v in value]) if isinstance(value, list) else str(value)
        env[f"RECSYS_{name.upper()}"] = text
    return env


def _stop(signum, frame) -> None:
    # uvicorn re-raises the SIGTERM it handled once it has shut down, so that the previous
    # handler decides; the default one would kill the process (status -15, "failed") after a
    # clean shutdown. Here a stop is a stop, before uvicorn starts as well.
    raise SystemExit(0)
