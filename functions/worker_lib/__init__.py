"""Code shared by every function of the risk worker.

Each function folder imports from here (``from worker_lib import config``); the build puts
``functions/`` at the root of ``dists.zip`` so ``worker_lib`` is importable in every function.
"""
