# mistake: keeps the scalar version's d.backward(), but d = f(a) is now a vector.
# expect: grad can be implicitly created only for scalar outputs
# diagnosis: nonscalar_backward
import torch


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f_vector(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad
