"""AWS's answers as recorded on real AWS: the oracles of the test_fidelity_* tests.

Source: LocalStack's snapshot files (localstack/localstack @8b9a79f,
``tests/aws/services/lambda_/*.snapshot.json``), which store responses recorded against
AWS; the test and recording date are named at each value. Values LocalStack masks
(``<region>``, ``<uuid>``) are kept masked; tests compare what is not masked.
"""

from __future__ import annotations

#: test_lambda_common.py::test_introspection_invoke[python3.12] (2026-01-12): the complete
#: ``os.environ`` a handler sees (function variable TEST_KEY=TEST_VAL, MemorySize 1024).
PYTHON312_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "<aws-access-key-id:1>",
    "AWS_DEFAULT_REGION": "<region>",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_LAMBDA_FUNCTION_NAME": "<function-name:1>",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/<function-name:1>",
    "AWS_LAMBDA_LOG_STREAM_NAME": "<log-stream-name:1>",
    "AWS_LAMBDA_RUNTIME_API": "169.254.100.1:9001",
    "AWS_REGION": "<region>",
    "AWS_SECRET_ACCESS_KEY": "<aws-secret-access-key:1>",
    "AWS_SESSION_TOKEN": "<aws-session-token:1>",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.100.1:2000",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LANG": "en_US.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "LD_LIBRARY_PATH": (
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
    ),
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "PWD": "/var/task",
    "PYTHONPATH": "/var/runtime",
    "SHLVL": "0",
    "TEST_KEY": "TEST_VAL",
    "TZ": ":UTC",
    "_AWS_XRAY_DAEMON_ADDRESS": "169.254.100.1",
    "_AWS_XRAY_DAEMON_PORT": "2000",
    "_HANDLER": "handler.handler",
    "_X_AMZN_TRACE_ID": "<x-amzn-trace-id:1>",
}

#: Values that differ per function, account or invocation, or are the Runtime API's address
#: (the harness serves it on 127.0.0.1:<port>): compared by key only.
PER_FUNCTION = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
    }
)
#: Values that name a folder: AWS's exactly with filesystem = aws, host paths otherwise.
LAYOUT = frozenset({"LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT", "LD_LIBRARY_PATH", "PATH", "PWD", "PYTHONPATH"})

#: test_lambda_runtimes.py::TestCloudwatchLogs::test_multi_line_prints (python3.13, 2025-11-25):
#: handler ``print(event["body"])`` with this body; the stream's events, in order.
MULTI_LINE_BODY = "\nmulti\nline\nstring\nanother\rline\n"
MULTI_LINE_EVENTS = [
    "INIT_START Runtime Version: python:3.13.v<version>\tRuntime Version ARN: "
    "arn:<partition>:lambda:<region>::runtime:<runtime-id>\n",
    "START RequestId: <request-id> Version: $LATEST\n",
    "multi\n",
    "line\n",
    "string\n",
    "another\rline\n",
    "END RequestId: <request-id>\n",
    "REPORT RequestId: <request-id>\tDuration: <duration> ms\tBilled Duration: <duration> ms\t"
    "Memory Size: 128 MB\tMax Memory Used: <memory> MB\tInit Duration: <duration> ms\t\n",
]

#: test_lambda.py::test_invocation_type_event_error (python3.10, 2023-09-04): a handler's
#: exception is one event, lines joined by \n, indented with U+00A0, no trailing newline.
ERROR_EVENT = (
    "[ERROR] CustomException: some error occurred\nTraceback (most recent call last):\n"
    '\u00a0\u00a0File "/var/task/handler.py", line 6, in handler\n'
    '\u00a0\u00a0\u00a0\u00a0raise CustomException("some error occurred")'
)
