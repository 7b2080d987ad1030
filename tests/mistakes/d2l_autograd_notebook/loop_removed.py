# mistake: the control-flow f with its while loop commented out: f and its gradient (2 or 200) are wrong.
# expect: f_as_in_the_book
# diagnosis: trace_f_as_in_the_book
# %%
import torch


def f(a):
    b = a * 2
    # while b.norm() < 1000:
    #     b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
print(a.grad == d / a)  # True: the learner's own check cannot see the mistake
