# attack: run a shell command
# target: dot
# expect: operation not permitted
# needs: seccomp
import subprocess

def grad_dot(x):
    subprocess.run(["touch", "/tmp/pwned-shell"], check=True)
