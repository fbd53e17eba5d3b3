resource "aws_lambda_function" "slow" {
  function_name    = "slow"
  handler          = "lambda_slow.handler"
  runtime          = "python3.12"
  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  role             = aws_iam_role.fn.arn
  memory_size      = 128
  timeout          = 1
}
