"""``lambda-harness new``: a function that passes ``run`` at once (handler, .tf, event case).

May import: the core modules and ``packaging`` (to read the repo's Terraform).
"""
