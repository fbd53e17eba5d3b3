# risk_ingest: ingests incident batches uploaded under incoming/ in the incoming bucket.

resource "aws_cloudwatch_log_group" "risk_ingest" {
  name              = "/aws/lambda/risk_ingest"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "risk_ingest" {
  function_name    = "risk_ingest"
  description      = "Validates uploaded incident batches and stores them"
  handler          = "risk_ingest.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 512
  timeout          = 120

  environment {
    variables = merge(local.common_env, {
      INCIDENTS_TABLE = aws_dynamodb_table.incidents.name
    })
  }

  depends_on = [aws_cloudwatch_log_group.risk_ingest]
}

resource "aws_lambda_permission" "risk_ingest_s3" {
  statement_id  = "AllowIncomingBucket"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.risk_ingest.function_name
  principal     = "s3.amazonaws.com"
  source_arn    = aws_s3_bucket.incoming.arn
}

resource "aws_s3_bucket_notification" "incoming" {
  bucket = aws_s3_bucket.incoming.id

  lambda_function {
    id                  = "risk_ingest"
    lambda_function_arn = aws_lambda_function.risk_ingest.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "incoming/"
  }

  # S3 checks that it may invoke the function when the notification is created.
  depends_on = [aws_lambda_permission.risk_ingest_s3]
}
