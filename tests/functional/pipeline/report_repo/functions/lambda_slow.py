import time


def handler(event, context):
    time.sleep(event["seconds"])
    return {"slept": event["seconds"]}
