# alerts_authorizer: the Lambda authorizer of the alerts HTTP API (see lambda_alerts_api.tf).

variable "alerts_api_tokens" {
  description = "Client name -> SHA-256 (hex) of its bearer token for the alerts API. Override per environment; the default is the hash of the development token used by the event cases."
  type        = map(string)
  default = {
    dashboard = "3c6cf2fbf08a6bcc22d0072b94149294abd3175a890a07b053f0f1afcc395286"
  }
}

resource "aws_cloudwatch_log_group" "alerts_authorizer" {
  name              = "/aws/lambda/alerts_authorizer"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "alerts_authorizer" {
  function_name    = "alerts_authorizer"
  description      = "Bearer-token authorizer of the alerts API"
  handler          = "alerts_authorizer.app.handler"
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.worker.arn
  memory_size      = 128
  timeout          = 3

  environment {
    variables = merge(local.common_env, {
      API_TOKENS = jsonencode(var.alerts_api_tokens)
    })
  }

  depends_on = [aws_cloudwatch_log_group.alerts_authorizer]
}

# API Gateway calls the authorizer as apigateway.amazonaws.com, with the authorizer's ARN as source.
resource "aws_lambda_permission" "alerts_authorizer_api" {
  statement_id  = "AllowAlertsApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.alerts_authorizer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.alerts.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.alerts.id}"
}
