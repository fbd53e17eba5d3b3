"""The export_api_log Lambda function (handler: export_api_log.app.handler)."""
