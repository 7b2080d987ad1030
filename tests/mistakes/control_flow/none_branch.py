# mistake: returns from inside the if and forgets the return in the else branch, so f(a) is None for negative a and d.backward() fails there.
# expect: returned none for some inputs
# diagnosis: none_on_some_inputs
import torch


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        return b
    else:
        c = 100 * b


def grad_f(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad
