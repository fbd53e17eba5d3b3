# alerts_api: GET /alerts?region=X and GET /health behind the alerts HTTP API (API Gateway v2).
# GET /alerts needs a bearer token, checked by the alerts_authorizer Lambda authorizer.

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

resource "aws_apigatewayv2_api" "alerts" {
  name          = "${var.prefix}-alerts"
  protocol_type = "HTTP"

  # API Gateway answers browser preflights itself and adds these headers to every response.
  cors_configuration {
    allow_origins = ["https://app.acme-risk.example"]
    allow_methods = ["GET"]
    allow_headers = ["authorization"]
    max_age       = 300
  }
}

resource "aws_apigatewayv2_integration" "alerts_api" {
  api_id                 = aws_apigatewayv2_api.alerts.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.alerts_api.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_authorizer" "alerts" {
  api_id                            = aws_apigatewayv2_api.alerts.id
  name                              = "bearer-token"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.alerts_authorizer.invoke_arn
  identity_sources                  = ["$request.header.Authorization"]
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  authorizer_result_ttl_in_seconds  = 300
}

resource "aws_apigatewayv2_route" "list_alerts" {
  api_id             = aws_apigatewayv2_api.alerts.id
  route_key          = "GET /alerts"
  target             = "integrations/${aws_apigatewayv2_integration.alerts_api.id}"
  authorization_type = "CUSTOM"
  authorizer_id      = aws_apigatewayv2_authorizer.alerts.id
}

resource "aws_apigatewayv2_route" "health" {
  api_id    = aws_apigatewayv2_api.alerts.id
  route_key = "GET /health"
  target    = "integrations/${aws_apigatewayv2_integration.alerts_api.id}"
}

resource "aws_apigatewayv2_stage" "alerts" {
  api_id      = aws_apigatewayv2_api.alerts.id
  name        = "$default"
  auto_deploy = true
}

# Without it API Gateway cannot call the function (AWS answers 500); any stage, method and route.
resource "aws_lambda_permission" "alerts_api_gateway" {
  statement_id  = "AllowAlertsApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.alerts_api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.alerts.execution_arn}/*/*"
}

output "alerts_api_url" {
  description = "Base URL of the alerts API (the $default stage)."
  value       = aws_apigatewayv2_stage.alerts.invoke_url
}
