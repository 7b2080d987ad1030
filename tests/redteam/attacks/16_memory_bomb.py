# attack: allocate until the machine runs out of memory
# target: dot
# expect: memory
def grad_dot(x):
    hoard = []
    while True:
        hoard.append(bytearray(100 * 1024 * 1024))


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
