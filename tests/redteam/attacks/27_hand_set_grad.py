# attack: assign x.grad by hand from the formula
# target: dot
# expect: not from autograd
def grad_dot(x):
    x.grad = 4 * x
    return x.grad


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
