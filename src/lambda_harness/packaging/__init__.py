"""Stage 1, build: everything that makes and checks the zips (``dists.zip``, per function, layers).

Reads the repo's Terraform statically (``tfconfig``), or takes Terraform's own evaluation
from the caller, to learn where each zip goes, each function's runtime, architecture and
handler; decides the zips (``artifacts``: one dists.zip, a zip per function or layer folder,
``archive_file`` outputs built by ``archives``); installs Lambda-platform wheels from the
lock (``lockfile``, ``projectlock``, ``wheels``); takes each folder's files (``selection``);
writes byte-reproducible zips and their manifests (``zipper``, ``manifest``); checks handlers
and size limits (``handlers``, ``limits``). ``builder.build`` is the stage's one verb.

May import: the core modules (errors, proc, fsutil, settings, paths, ui, net, events).
Never imports ``endpoint`` (the build must not depend on the endpoint, nor the reverse).
"""
