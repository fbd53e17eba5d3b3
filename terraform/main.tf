# Risk worker: the Lambda functions of the risk-information backend and what they use.
#
# One file per function (lambda_<name>.tf) holds the function, its log group and its trigger;
# this file holds what they share: the provider, the IAM role, the buckets, tables and queues,
# and the deployment package.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  # The real, shared state. lambda-harness never touches it: it stages a copy of this folder
  # with a local backend when it applies to its emulator.
  backend "s3" {
    bucket = "acme-risk-terraform-state"
    key    = "worker/terraform.tfstate"
    region = "eu-west-1"
  }
}

# No endpoint settings here on purpose: against the emulator the harness sets AWS_ENDPOINT_URL,
# which the provider honours for every service (an endpoints {} block would cost ~2 s per
# provider start and would have to be kept out of the real apply).
provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region of the worker."
  type        = string
  default     = "eu-west-1"
}

variable "prefix" {
  description = "Prefix of every resource name (buckets must be globally unique)."
  type        = string
  default     = "acme-risk-dev"
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps the functions' logs."
  type        = number
  default     = 14
}

variable "stale_after_seconds" {
  description = "process_checker reports a process whose last heartbeat is older than this."
  type        = number
  default     = 600
}

locals {
  # Variables every function gets; each lambda_<name>.tf merges its own on top.
  common_env = {
    LOG_LEVEL = var.log_level
  }
  # Every function name, for the log-group ARNs in the IAM policy below.
  function_names = [
    "process_checker",
    "export_api_log",
    "risk_ingest",
    "alert_enricher",
    "alerts_api",
    "alerts_authorizer",
    "admin_reindex",
  ]
}

# ---------------------------------------------------------------------------------------------
# Deployment package
#
# Every function takes its code from ONE shared S3 object (s3_bucket/s3_key) instead of
# `filename = "../dists.zip"`. Why: terraform-provider-aws (5.x) creates functions that upload
# a local `filename` one at a time, under a global lock held through a waiter with a fixed delay
# of at least 5 s per function. Measured: 50 functions with `filename` took ~264 s to create;
# the same 50 functions reading one aws_s3_object took ~9.5 s, since the upload happens once
# and the function creations run in parallel. It also means the zip is uploaded once, not once
# per function, and every function provably runs the same bytes.
#
# `source_hash` makes Terraform re-upload the object when the zip changes, and each function's
# `source_code_hash` (filebase64sha256 of the same file) makes it update its code then; since
# provider 5.51 `source_code_hash` is only such a trigger, the deployed hash is `code_sha256`.
# The zip is built by lambda-harness (`dists.zip` at the repo root, from functions/ and
# requirements.txt); the harness tests exactly this file before it is promoted.
# ---------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "artifacts" {
  bucket = "${var.prefix}-artifacts"
}

resource "aws_s3_object" "dists" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "lambda/dists.zip"
  source      = "${path.module}/../dists.zip"
  source_hash = filemd5("${path.module}/../dists.zip")
}

# ---------------------------------------------------------------------------------------------
# Data stores
# ---------------------------------------------------------------------------------------------

# Partners upload incident batches under incoming/ (risk_ingest).
resource "aws_s3_bucket" "incoming" {
  bucket = "${var.prefix}-incoming"
}

# Daily API log exports (export_api_log), read by Athena.
resource "aws_s3_bucket" "exports" {
  bucket = "${var.prefix}-exports"
}

resource "aws_dynamodb_table" "heartbeats" {
  name         = "${var.prefix}-heartbeats"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "process"

  attribute {
    name = "process"
    type = "S"
  }
}

resource "aws_dynamodb_table" "api_log" {
  name         = "${var.prefix}-api-log"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "day"
  range_key    = "request_key"

  attribute {
    name = "day"
    type = "S"
  }

  attribute {
    name = "request_key"
    type = "S"
  }

  # Items carry expires_at (epoch seconds); DynamoDB drops them after the export window.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

resource "aws_dynamodb_table" "incidents" {
  name         = "${var.prefix}-incidents"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "incident_id"

  attribute {
    name = "incident_id"
    type = "S"
  }
}

# Queried by region (alerts_api), so region is the partition key.
resource "aws_dynamodb_table" "alerts" {
  name         = "${var.prefix}-alerts"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "region"
  range_key    = "alert_id"

  attribute {
    name = "region"
    type = "S"
  }

  attribute {
    name = "alert_id"
    type = "S"
  }
}

# Raw alerts from the feed adapters, consumed by alert_enricher. A message that fails 5 times
# moves to the dead-letter queue.
resource "aws_sqs_queue" "alerts" {
  name = "${var.prefix}-alerts"
  # AWS requires at least the consumer's timeout; 6x leaves room for retries inside a batch.
  visibility_timeout_seconds = 180
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.alerts_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue" "alerts_dlq" {
  name                      = "${var.prefix}-alerts-dlq"
  message_retention_seconds = 1209600
}

# ---------------------------------------------------------------------------------------------
# IAM: one role for all functions, with only the actions they use.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name               = "${var.prefix}-worker"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for name in local.function_names : "arn:aws:logs:${var.region}:*:log-group:/aws/lambda/${name}:*"]
  }

  statement {
    sid     = "ReadWriteTables"
    actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:Scan"]
    resources = [
      aws_dynamodb_table.heartbeats.arn,
      aws_dynamodb_table.api_log.arn,
      aws_dynamodb_table.incidents.arn,
      aws_dynamodb_table.alerts.arn,
    ]
  }

  statement {
    sid       = "ReadIncoming"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.incoming.arn}/incoming/*"]
  }

  statement {
    sid       = "WriteExports"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.exports.arn}/api-logs/*"]
  }

  statement {
    sid       = "ConsumeAlerts"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.alerts.arn]
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "${var.prefix}-worker"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}
