# attack: kill the process that forks the sandboxes
# target: dot
# expect: operation not permitted
# needs: landlock
import os
import signal

def grad_dot(x):
    os.kill(os.getppid(), signal.SIGKILL)
