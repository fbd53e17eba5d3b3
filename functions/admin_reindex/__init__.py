"""The admin_reindex Lambda function (handler: admin_reindex.app.handler)."""
