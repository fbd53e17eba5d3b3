# A small worker repo for the report, coverage and advice tests: four functions whose code
# comes from one S3 object (created in parallel), each with a known shape.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_iam_role" "fn" {
  name = "report-fn"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "report-artifacts"
}

resource "aws_s3_object" "dists" {
  bucket = aws_s3_bucket.artifacts.id
  key    = "dists.zip"
  source = "${path.module}/../dists.zip"
  etag   = filemd5("${path.module}/../dists.zip")
}
