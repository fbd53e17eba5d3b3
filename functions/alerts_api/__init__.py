"""The alerts_api Lambda function (handler: alerts_api.app.handler)."""
