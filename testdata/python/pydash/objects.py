"""pydash.objects.set_, the one function azure-ai-ml 1.4.0 takes from it."""


def set_(obj, path, value):
    """Sets value at dotted path in nested dicts, making missing levels; returns obj."""
    keys = path if isinstance(path, (list, tuple)) else str(path).split(".")
    cur = obj
    for key in keys[:-1]:
        nxt = cur.get(key) if isinstance(cur, dict) else None
        if not isinstance(nxt, dict):
            nxt = {}
            cur[key] = nxt
        cur = nxt
    cur[keys[-1]] = value
    return obj
