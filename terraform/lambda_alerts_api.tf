# alerts_api: GET /alerts?region=X behind a public function URL.

resource "aws_cloudwatch_log_group" "alerts_api" {
  name              = "/aws/lambda/alerts_api"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "alerts_api" {
  function_name    = "alerts_api"
  description      = "Read API for enriched alerts"
  handler          = "alerts_api.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 256
  timeout          = 10

  environment {
    variables = merge(local.common_env, {
      ALERTS_TABLE  = aws_dynamodb_table.alerts.name
      MAX_PAGE_SIZE = "200"
    })
  }

  depends_on = [aws_cloudwatch_log_group.alerts_api]
}

resource "aws_lambda_function_url" "alerts_api" {
  function_name      = aws_lambda_function.alerts_api.function_name
  authorization_type = "NONE"

  cors {
    allow_origins = ["https://app.acme-risk.example"]
    allow_methods = ["GET"]
    max_age       = 300
  }
}

# A public (NONE) function URL still needs a resource policy that lets anyone call it.
resource "aws_lambda_permission" "alerts_api_url" {
  statement_id           = "AllowPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.alerts_api.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}
