# attack: sys.exit(0) before the grader can judge anything
# target: dot
# expect: sys.exit(0)
import sys
import torch

def grad_dot(x):
    sys.exit(0)
