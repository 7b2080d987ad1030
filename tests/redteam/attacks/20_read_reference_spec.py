# attack: read the exercise's reference (the answer) from its spec
# target: dot
# expect: permissionerror
# needs: landlock
def grad_dot(x):
    return open(REPO + "/exercises/autograd/dot.yaml").read()


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
