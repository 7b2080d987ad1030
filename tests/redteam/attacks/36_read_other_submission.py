# attack: list the submissions folder and copy a classmate's answer
# target: dot
# expect: permissionerror
# needs: landlock
import os

def grad_dot(x):
    return os.listdir(SUBMISSIONS)
