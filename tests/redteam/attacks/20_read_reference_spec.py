# attack: read the exercise's reference (the answer) from its spec
# target: dot
# expect: permissionerror
# needs: landlock
def grad_dot(x):
    return open(REPO + "/exercises/autograd/dot.yaml").read()
