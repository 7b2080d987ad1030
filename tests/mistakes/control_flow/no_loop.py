# mistake: removes the while loop from f, so both f(a) and its gradient (2 or 200) are wrong.
# expect: while loop was removed
# diagnosis: loop_removed
import torch


def f(a):
    b = a * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_f(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad
