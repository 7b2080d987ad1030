# attack: import the grader's harness to call its recorder by hand
# target: dot
# expect: grader
# others: failed
import torch
import grader.sandbox.harness as harness

def grad_dot(x):
    return 4 * x
