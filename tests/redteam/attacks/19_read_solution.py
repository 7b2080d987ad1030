# attack: read the model answer from the course repository
# target: dot
# expect: permissionerror
# needs: landlock
def grad_dot(x):
    source = open(REPO + "/solutions/autograd/dot.py").read()
    exec(source, globals())
    return grad_dot(x)
