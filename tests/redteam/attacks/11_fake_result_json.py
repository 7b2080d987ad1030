# attack: print a fake passing result as JSON on stdout
# target: dot
# expect: returned none
import json

def grad_dot(x):
    print(json.dumps({"score": 100, "max_score": 100, "status": "passed", "exercises": []}))


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
