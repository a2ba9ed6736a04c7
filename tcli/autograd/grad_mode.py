"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (context managers and decorators)."""

from __future__ import annotations

import functools
import inspect


class _State:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _Mode:
    """Base for grad-mode context managers that also decorate functions and generators."""

    def _enter_state(self):
        raise NotImplementedError

    def __enter__(self):
        self._saved = (STATE.enabled, STATE.inference)
        self._enter_state()
        return None

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._saved
        return False

    def clone(self):
        return type(self)()

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise RuntimeError(f"{type(self).__name__} can only decorate functions, not classes")
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                gen = fn(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            gen.close()
                            raise
                        except BaseException as error:
                            with self.clone():
                                response = gen.throw(error)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Disable gradient recording: results of ops do not require grad."""

    def __init__(self, orig_func=None):
        if orig_func is not None and callable(orig_func):
            raise TypeError("no_grad() takes no positional arguments; use @no_grad() or @no_grad")

    def __new__(cls, orig_func=None):
        if orig_func is not None and callable(orig_func):  # bare @no_grad
            return cls()(orig_func)
        return super().__new__(cls)

    def _enter_state(self):
        STATE.enabled = False


class enable_grad(_Mode):
    def __new__(cls, orig_func=None):
        if orig_func is not None and callable(orig_func):
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None):
        pass

    def _enter_state(self):
        STATE.enabled = True


class set_grad_enabled(_Mode):
    """Sets grad mode at once (usable as a function), restoring it when used as a context manager."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __call__(self, fn):
        STATE.enabled = self._prev  # used as a decorator: the mode applies inside fn only
        return super().__call__(fn)

    def __enter__(self):
        self._saved = (self._prev, STATE.inference)
        STATE.enabled = self.mode
        return None

    def _enter_state(self):
        STATE.enabled = self.mode

    def clone(self):
        clone = object.__new__(set_grad_enabled)
        clone.mode = self.mode
        clone._prev = STATE.enabled
        return clone


class inference_mode(_Mode):
    """Like no_grad; tensors made inside are inference tensors (tcli treats them as plain tensors)."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode) if not callable(mode) else True

    def _enter_state(self):
        if self.mode:
            STATE.enabled = False
            STATE.inference = True

    def clone(self):
        return inference_mode(self.mode)
