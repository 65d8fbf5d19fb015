"""`recsys serve`: uvicorn running the app on a workspace."""

from __future__ import annotations

import os

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


def run_server(ws: Workspace, host: str = "127.0.0.1", port: int = 8000) -> str:
    """Serve API + web page until interrupted (Ctrl-C); settings also read ``RECSYS_*``."""
    limit_math_threads()
    import uvicorn

    from serving.app import create_app
    from serving.settings import Settings

    app = create_app(Settings(workspace=ws.root, lancedb_uri=ws.store_uri))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    return "serve: stopped"
