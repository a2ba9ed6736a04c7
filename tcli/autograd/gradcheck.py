"""gradcheck: compare autograd's gradients with central finite differences in float64."""

from __future__ import annotations


class GradcheckError(RuntimeError):
    pass


def _flat_outputs(out):
    from .._tensor import Tensor
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False, **_ignored):
    """True if d func / d inputs from autograd matches finite differences (inputs should be float64)."""
    from .._tensor import Tensor
    from . import grad as autograd_grad
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    outputs = _flat_outputs(func(*inputs))
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        n_out = out.numel()
        for j in range(n_out):
            from ..ops.creation import zeros
            seed = zeros(out.shape, dtype=out.dtype, device=out.device)  # fresh memory: out may view an input
            seed.view(-1)[j] = 1.0
            fresh = _flat_outputs(func(*inputs))[k]
            analytic = autograd_grad(fresh, diff_inputs, seed, allow_unused=True)
            for x, a in zip(diff_inputs, analytic):
                numeric = _numeric_column(func, inputs, x, k, j, eps)
                got = a.detach().reshape(-1).tolist() if a is not None else [0.0] * x.numel()
                for i, (num, ana) in enumerate(zip(numeric, got)):
                    if abs(num - ana) > atol + rtol * abs(num):
                        msg = (f"Jacobian mismatch for output {k} with respect to input {inputs.index(x)},\n"
                               f"numerical:{num}\nanalytical:{ana}\n(output element {j}, input element {i})")
                        if raise_exception:
                            raise GradcheckError(msg)
                        return False
    return True


def _numeric_column(func, inputs, x, k, j, eps):
    """d out[k].flat[j] / d x.flat[i] for every i, by central differences.

    func runs with grad mode as the caller has it: gradgradcheck's func itself calls autograd.grad.
    """
    flat = x.detach().reshape(-1)
    if flat._buf is not x._buf:
        raise ValueError("gradcheck needs contiguous inputs (call .contiguous() first)")
    column = []
    for i in range(x.numel()):
        orig = flat[i].item()
        flat[i] = orig + eps
        plus = _flat_outputs(func(*inputs))[k].reshape(-1)[j].item()
        flat[i] = orig - eps
        minus = _flat_outputs(func(*inputs))[k].reshape(-1)[j].item()
        flat[i] = orig
        column.append((plus - minus) / (2 * eps))
    return column


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  **_ignored):
    """Second derivatives: gradcheck of the function that returns the first gradients (create_graph=True)."""
    from .._tensor import Tensor
    from . import grad as autograd_grad
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]

    def first_grads(*args):
        outs = _flat_outputs(func(*args))
        seeds = [o.detach().clone().fill_(1.0) for o in outs]
        return autograd_grad(outs, diff_inputs, seeds, create_graph=True, allow_unused=True)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
