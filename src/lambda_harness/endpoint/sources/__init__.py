"""Event sources that call Lambda functions on the embedded endpoint, shaped and timed like AWS.

S3 notifications (``s3``), SNS subscriptions (``sns``), SQS event source
mappings polled like Lambda's pollers (``sqs``), EventBridge rules and
schedules (``eventbridge``, ``schedule``), and function URLs served over HTTP
(``function_urls``). Each reaches the runtime through ``endpoint.invoke``.

May import: core modules and the rest of ``endpoint``.
"""
