"""Stage 4, test: one invocation test per event case of every deployed function.

The pytest plugin (``plugin``, entry point ``pytest11``) turns event cases on
disk (``cases``) into one test per case plus the gate (a deployed function with
no case fails), invokes through ``invoker`` and records per-function results
(``results``). ``session`` builds the pytest child's arguments and environment;
``smoke`` initialises every function without cases.

May import: the core modules and ``terraform`` (the inventory of what was deployed).
"""
