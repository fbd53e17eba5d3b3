"""The risk_ingest Lambda function (handler: risk_ingest.app.handler)."""
