# attack: input() waits for a keyboard that is not there
# target: dot
# expect: eoferror
def grad_dot(x):
    answer = input("gradient? ")
    return answer


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
