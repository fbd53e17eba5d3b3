def never_imported():
    return 1
