# attack: flood stdout forever
# target: dot
# expect: time limit
def grad_dot(x):
    while True:
        print("flood " * 1000)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
