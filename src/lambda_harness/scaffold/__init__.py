"""``lambda-harness new``: a function that passes ``run`` at once (handler, .tf, event case).

May import: the core modules, ``packaging`` (to read the repo's Terraform) and ``testing``
(``generate-event`` writes the event case).
"""
