from common import util


def handler(event, context):
    if event.get("big"):
        size = "big"
    else:
        size = "small"
    return {"size": size, "label": util.label(size)}
