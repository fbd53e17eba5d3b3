"""API Gateway (REST v1 and HTTP v2 APIs) served over HTTP, as AWS serves them.

moto stores the APIs Terraform creates but never serves them (its own invoke path
is a decorator-mode mock without Lambda proxy integrations). This package reads
moto's API Gateway backends in-process and serves every API itself:

* ``/_harness/apigw/<api-id>/<stage>/<path>`` (alias ``/_aws/execute-api/...``,
  LocalStack's form) and the Host form ``<api-id>.execute-api.localhost[:port]``
  (also ``...localhost.localstack.cloud``);
* stage selection, route matching, Lambda authorizers with caching, permission
  checks, the integration event, response mapping and API Gateway's error answers.

Pure cores take no server: ``routing`` (stages, routes), ``events`` (the Lambda
proxy events), ``authorizers`` (identity, authorizer events and results, the
cache), ``responses`` (function result -> HTTP response), ``errors`` (AWS's gateway
error table), ``permissions`` (resource policy vs source ARN), ``openapi`` (OpenAPI
import into moto's models). ``catalog`` and ``snapshots`` read moto; ``addressing``
says which requests are for an API; ``gateway`` serves them (``front`` routes to it);
``gaps`` serves the v2 control-plane operations moto lacks. Only ``catalog``,
``openapi`` and ``gaps`` import moto.

May import: the core modules, ``endpoint.invoke``, ``endpoint.lookup``,
``endpoint.runtime.model``, ``endpoint.sources.function_urls`` (shared HTTP bits).
"""
