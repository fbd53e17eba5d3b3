terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  backend "s3" {
    bucket = "team-real-state"
    key    = "workers/terraform.tfstate"
    region = "eu-west-1"
  }
}
provider "aws" {
  region = "us-east-1"
}
resource "aws_s3_bucket" "artifacts" {
  bucket = "artifacts"
}
resource "aws_s3_object" "dists" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "dists.zip"
  source      = "${path.module}/../dists.zip"
  source_hash = filemd5("${path.module}/../dists.zip")
}
resource "aws_iam_role" "lambda" {
  name = "lambda-role"
  assume_role_policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "sts:AssumeRole", Principal = {Service = "lambda.amazonaws.com"}}]})
}
resource "aws_lambda_function" "hello" {
  function_name    = "hello"
  role             = aws_iam_role.lambda.arn
  handler          = "app.handler"
  runtime          = "python3.12"
  s3_bucket        = aws_s3_object.dists.bucket
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  environment {
    variables = { STAGE = "test" }
  }
}
