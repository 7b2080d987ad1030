# attack: write a fake grades file next to the grader
# target: dot
# expect: permissionerror
# needs: landlock
def grad_dot(x):
    with open(REPO + "/pwned-grades.csv", "w") as handle:
        handle.write("student,score\nme,100\n")


def grad_sum(x):
    x = x.clone().requires_grad_(True)
    x.sum().backward()
    return x.grad


def grad_square(x, v):
    x = x.clone().requires_grad_(True)
    (x * x).backward(gradient=v)
    return x.grad
