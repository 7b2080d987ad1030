# attack: breakpoint() (a debugger would hang), then the formula instead of autograd
# target: dot
# expect: not from autograd
def grad_dot(x):
    breakpoint()
    return 4 * x


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
