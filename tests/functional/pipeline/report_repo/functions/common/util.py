def label(size):
    return size.upper()


def unused(value):
    return value * 2
