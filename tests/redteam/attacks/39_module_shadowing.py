# attack: a json.py beside the submission that would run when the grader imports json
# target: dot
# expect: 
# status: passed
import json
import torch

def grad_dot(x):
    x = x.clone().requires_grad_(True)
    (2 * torch.dot(x, x)).backward()
    return x.grad


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
