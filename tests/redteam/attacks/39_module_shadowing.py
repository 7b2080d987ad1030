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
