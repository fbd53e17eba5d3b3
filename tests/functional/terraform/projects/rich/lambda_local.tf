resource "aws_lambda_function" "local_fn" {
  function_name    = "local_fn"
  role             = aws_iam_role.lambda.arn
  handler          = "app.handler"
  runtime          = "python3.12"
  architectures    = ["arm64"]
  filename         = "${path.module}/../dists.zip"
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  timeout          = 30
  memory_size      = 256
}

resource "aws_lambda_function_url" "local_fn" {
  function_name      = aws_lambda_function.local_fn.function_name
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "apigw"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.local_fn.function_name
  principal     = "apigateway.amazonaws.com"
}

resource "aws_cloudwatch_event_rule" "pattern" {
  name          = "on-order"
  event_pattern = jsonencode({ source = ["orders"] })
}

resource "aws_cloudwatch_event_target" "pattern" {
  rule = aws_cloudwatch_event_rule.pattern.name
  arn  = aws_lambda_function.local_fn.arn
}

resource "aws_dynamodb_table" "items" {
  name             = "items"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"
  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_lambda_event_source_mapping" "items" {
  event_source_arn  = aws_dynamodb_table.items.stream_arn
  function_name     = aws_lambda_function.local_fn.arn
  starting_position = "LATEST"
  batch_size        = 10
}
