"""Tab completion from the live namespace: names, attributes, dict keys and keyword arguments.

Nothing here runs user code: attributes are read from types and ``__dict__`` (no properties, no user
``__dir__``), values are followed only through modules, and dict keys are read with ``dict.keys``.
prompt_toolkit calls it from a thread, so typing never waits for it.
"""

from __future__ import annotations

import builtins
import inspect
import re
import types

_NAME_PATH = re.compile(r"[A-Za-z_][\w.]*$")
_KEY = re.compile(r"([A-Za-z_][\w.]*)\[\s*(['\"]?)([^'\"\[\]]*)$")
_ARGUMENT = re.compile(r"[(,]\s*([A-Za-z_]\w*)?$")


class NamespaceCompleter:
    def __init__(self, namespace):
        self.namespace = namespace

    def complete(self, before: str) -> list[tuple[str, int]]:
        """(text to insert, how many characters before the cursor it replaces), best first."""
        key = _KEY.search(before)
        if key is not None:
            return self._keys(*key.groups())
        token = _NAME_PATH.search(before)
        text = token.group(0) if token else ""
        found = []
        argument = _ARGUMENT.search(before)
        if argument is not None and "." not in text:
            prefix = argument.group(1) or ""
            callee = _open_call(before[:argument.start() + 1])
            if callee:
                found += [(f"{name}=", len(prefix)) for name in self.keywords(callee) if name.startswith(prefix)]
        if text:
            prefix = text.rsplit(".", 1)[-1]
            found += [(word, len(prefix)) for word in self.words(text)]
        return found

    def words(self, text: str) -> list[str]:
        """Names (``x``), or attributes (``x.su``) of the object the dotted path leads to."""
        *path, prefix = text.split(".")
        if not path:
            names = set(self.namespace) | set(dir(builtins))
        else:
            obj = self._resolve(path, through_values=False)
            if obj is None:
                return []
            names = set(getattr(obj, "__dict__", {})) | set(dir(type(obj)))
            if isinstance(obj, types.ModuleType):
                names |= set(getattr(obj, "__all__", ()))
        return sorted(n for n in names if n.startswith(prefix) and (prefix.startswith("_") or not n.startswith("_")))

    def keywords(self, callee: str) -> list[str]:
        """The keyword arguments the callable at ``callee`` (a dotted path) takes."""
        fn = self._resolve(callee.split("."), through_values=True)
        if isinstance(fn, (staticmethod, classmethod)):
            fn = fn.__func__
        if fn is None or not callable(fn):
            return []
        try:
            parameters = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            return []
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return [p.name for p in parameters if p.kind in kinds and p.name != "self" and not p.name.startswith("_")]

    def _keys(self, path: str, quote: str, prefix: str) -> list[tuple[str, int]]:
        obj = self._resolve(path.split("."), through_values=False)
        if not isinstance(obj, dict):
            return []
        replaced = len(quote) + len(prefix)
        found = []
        for key in dict.keys(obj):
            if isinstance(key, str) and key.startswith(prefix):
                q = quote or '"'
                found.append((f"{q}{key}{q}]", replaced))
            elif isinstance(key, int) and not quote and str(key).startswith(prefix):
                found.append((f"{key}]", replaced))
        return found

    def _resolve(self, path: list[str], through_values: bool):
        """The object a dotted path names. Past the first name, only modules are followed with getattr;
        with ``through_values`` the last step may also read a class attribute statically (``x.sum``)."""
        obj = self.namespace.get(path[0])
        for i, part in enumerate(path[1:], start=2):
            if obj is None:
                return None
            if isinstance(obj, types.ModuleType):
                obj = getattr(obj, part, None)
            elif through_values and i == len(path):
                try:
                    obj = inspect.getattr_static(obj, part)
                except AttributeError:
                    return None
            else:
                return None
        return obj


def _open_call(before: str) -> str | None:
    """The dotted name called by the innermost bracket still open at the end of ``before``, when it is a '('."""
    depth = 0
    quote = None
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                name = _NAME_PATH.search(before[:i])
                return name.group(0) if name else None
            depth -= 1
    return None
