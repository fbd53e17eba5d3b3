# export_api_log: daily at 01:15 UTC, exports yesterday's API log to the exports bucket.

resource "aws_cloudwatch_log_group" "export_api_log" {
  name              = "/aws/lambda/export_api_log"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "export_api_log" {
  function_name    = "export_api_log"
  description      = "Exports a day of API logs to S3 as gzipped JSON lines"
  handler          = "export_api_log.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 512
  timeout          = 300

  environment {
    variables = merge(local.common_env, {
      API_LOG_TABLE = aws_dynamodb_table.api_log.name
      EXPORT_BUCKET = aws_s3_bucket.exports.id
      EXPORT_PREFIX = "api-logs"
    })
  }

  depends_on = [aws_cloudwatch_log_group.export_api_log]
}

resource "aws_cloudwatch_event_rule" "export_api_log" {
  name                = "export_api_log-daily"
  description         = "Runs export_api_log for the previous day"
  schedule_expression = "cron(15 1 * * ? *)"
}

resource "aws_cloudwatch_event_target" "export_api_log" {
  rule      = aws_cloudwatch_event_rule.export_api_log.name
  target_id = "export_api_log"
  arn       = aws_lambda_function.export_api_log.arn
}

resource "aws_lambda_permission" "export_api_log_schedule" {
  statement_id  = "AllowEventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.export_api_log.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.export_api_log.arn
}
