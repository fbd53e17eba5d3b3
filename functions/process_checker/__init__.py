"""The process_checker Lambda function (handler: process_checker.app.handler)."""
