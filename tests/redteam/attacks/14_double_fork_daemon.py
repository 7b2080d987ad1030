# attack: double fork and setsid: a daemon outside the process group
# target: dot
# expect: operation not permitted
# needs: seccomp
import os
import time

def grad_dot(x):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
            open("/tmp/pwned-daemon", "w").write("still here")
        os._exit(0)
    time.sleep(0.1)
