resource "aws_s3_bucket" "uploads" {
  bucket = "uploads"
}

resource "aws_lambda_permission" "s3" {
  statement_id  = "s3"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.hello.function_name
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.uploads.arn
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  lambda_function {
    lambda_function_arn = aws_lambda_function.hello.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "in/"
    filter_suffix       = ".json"
  }
  depends_on = [aws_lambda_permission.s3]
}

resource "aws_sns_topic" "alerts" {
  name = "alerts"
}

resource "aws_sns_topic_subscription" "alerts" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.hello.arn
}

resource "aws_cloudwatch_event_rule" "every_5" {
  name                = "every-5-minutes"
  schedule_expression = "rate(5 minutes)"
}

resource "aws_cloudwatch_event_target" "every_5" {
  rule  = aws_cloudwatch_event_rule.every_5.name
  arn   = aws_lambda_function.hello.arn
  input = jsonencode({ job = "tick" })
}

output "hello_arn" {
  value = aws_lambda_function.hello.arn
}
