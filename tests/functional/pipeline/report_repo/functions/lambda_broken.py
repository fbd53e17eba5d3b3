def handler(event, context):
    print("adding up", event["items"])
    return {"total": sum(event["items"]) - 1}
