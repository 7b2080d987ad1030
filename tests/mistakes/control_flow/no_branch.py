# mistake: drops the if/else from f ("the branch never matters"), so f(a) and its gradient miss the factor 100 when b.sum() is not positive.
# expect: if/else was removed
# diagnosis: branch_removed
import torch


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    return b


def grad_f(a):
    a = a.clone().requires_grad_(True)
    d = f(a)
    d.backward()
    return a.grad
