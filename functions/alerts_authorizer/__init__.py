"""The alerts_authorizer Lambda function (handler: alerts_authorizer.app.handler)."""
