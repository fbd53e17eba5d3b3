"""The alert_enricher Lambda function (handler: alert_enricher.app.handler)."""
