# admin_reindex: run by hand (aws lambda invoke), no trigger.

resource "aws_cloudwatch_log_group" "admin_reindex" {
  name              = "/aws/lambda/admin_reindex"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "admin_reindex" {
  function_name    = "admin_reindex"
  description      = "Re-writes table items so indexes pick them up (dry run by default)"
  handler          = "admin_reindex.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 512
  timeout          = 900

  environment {
    variables = merge(local.common_env, {
      REINDEX_TABLES = join(",", [
        "incidents=${aws_dynamodb_table.incidents.name}",
        "alerts=${aws_dynamodb_table.alerts.name}",
        "heartbeats=${aws_dynamodb_table.heartbeats.name}",
      ])
    })
  }

  depends_on = [aws_cloudwatch_log_group.admin_reindex]
}
