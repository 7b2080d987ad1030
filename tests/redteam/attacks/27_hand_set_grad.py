# attack: assign x.grad by hand from the formula
# target: dot
# expect: not from autograd
def grad_dot(x):
    x.grad = 4 * x
    return x.grad
