# alert_enricher: consumes the alerts queue, 10 messages a batch, with partial batch failures.

resource "aws_cloudwatch_log_group" "alert_enricher" {
  name              = "/aws/lambda/alert_enricher"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "alert_enricher" {
  function_name    = "alert_enricher"
  description      = "Adds severity score, region name and receive time to alerts"
  handler          = "alert_enricher.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 256
  # Must stay below the queue's visibility timeout (180 s).
  timeout = 30

  environment {
    variables = merge(local.common_env, {
      ALERTS_TABLE = aws_dynamodb_table.alerts.name
    })
  }

  depends_on = [aws_cloudwatch_log_group.alert_enricher]
}

resource "aws_lambda_event_source_mapping" "alert_enricher" {
  event_source_arn        = aws_sqs_queue.alerts.arn
  function_name           = aws_lambda_function.alert_enricher.arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  # The role must be allowed to read the queue before Lambda validates the mapping.
  depends_on = [aws_iam_role_policy.worker]
}
