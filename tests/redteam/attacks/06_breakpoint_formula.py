# attack: breakpoint() (a debugger would hang), then the formula instead of autograd
# target: dot
# expect: not from autograd
def grad_dot(x):
    breakpoint()
    return 4 * x
