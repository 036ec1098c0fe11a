"""The part of pydash (https://pydash.readthedocs.io) azure-ai-ml 1.4.0 uses.

Debian packages azure-ai-ml but not pydash, which it imports; the tests put
this directory on PYTHONPATH. Paths are dotted strings or lists of keys.
"""

from . import objects

__all__ = ["get", "omit", "objects"]


def _keys(path):
    return path if isinstance(path, (list, tuple)) else str(path).split(".")


def get(obj, path, default=None):
    """The value at path in nested dicts, lists and objects, or default."""
    for key in _keys(path):
        if isinstance(obj, dict):
            if key not in obj:
                return default
            obj = obj[key]
        elif isinstance(obj, (list, tuple)) and str(key).lstrip("-").isdigit():
            try:
                obj = obj[int(key)]
            except IndexError:
                return default
        elif hasattr(obj, str(key)):
            obj = getattr(obj, str(key))
        else:
            return default
    return obj


def omit(obj, *paths):
    """A shallow copy of dict obj without the given top-level keys."""
    keys = set()
    for p in paths:
        keys.update(p if isinstance(p, (list, tuple, set)) else [p])
    return {k: v for k, v in obj.items() if k not in keys}
