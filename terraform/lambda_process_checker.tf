# process_checker: every 5 minutes, reports processes whose heartbeat is stale.

resource "aws_cloudwatch_log_group" "process_checker" {
  name              = "/aws/lambda/process_checker"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "process_checker" {
  function_name    = "process_checker"
  description      = "Reports background processes whose heartbeat is stale"
  handler          = "process_checker.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 256
  timeout          = 30

  environment {
    variables = merge(local.common_env, {
      HEARTBEAT_TABLE     = aws_dynamodb_table.heartbeats.name
      STALE_AFTER_SECONDS = tostring(var.stale_after_seconds)
    })
  }

  # The log group must exist first, else Lambda creates one without retention.
  depends_on = [aws_cloudwatch_log_group.process_checker]
}

resource "aws_cloudwatch_event_rule" "process_checker" {
  name                = "process_checker-every-5-minutes"
  description         = "Runs process_checker"
  schedule_expression = "rate(5 minutes)"
}

resource "aws_cloudwatch_event_target" "process_checker" {
  rule      = aws_cloudwatch_event_rule.process_checker.name
  target_id = "process_checker"
  arn       = aws_lambda_function.process_checker.arn
}

resource "aws_lambda_permission" "process_checker_schedule" {
  statement_id  = "AllowEventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.process_checker.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.process_checker.arn
}
