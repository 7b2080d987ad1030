# attack: read the model answer from the course repository
# target: dot
# expect: permissionerror
# needs: landlock
def grad_dot(x):
    source = open(REPO + "/solutions/autograd/dot.py").read()
    exec(source, globals())
    return grad_dot(x)


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
