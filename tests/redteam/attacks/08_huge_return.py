# attack: return 10^9 elements (4 GB) to exhaust the grader's memory
# target: dot
# expect: memory
import torch

def grad_dot(x):
    return torch.ones(10**9)
