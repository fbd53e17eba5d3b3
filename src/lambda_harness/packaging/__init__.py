"""Stage 1, build: everything that makes and checks ``dists.zip``.

Reads the repo's Terraform statically (``tfconfig``) to learn where the zip goes,
each function's runtime, architecture and handler; installs Lambda-platform
wheels from the lock file (``lockfile``, ``wheels``); writes a byte-reproducible
zip and its manifest (``zipper``, ``manifest``); checks handlers and size limits
(``handlers``, ``limits``). ``builder.build`` is the stage's one verb.

May import: the core modules (errors, proc, fsutil, settings, paths, ui, net, events).
Never imports ``endpoint`` (the build must not depend on the endpoint, nor the reverse).
"""
