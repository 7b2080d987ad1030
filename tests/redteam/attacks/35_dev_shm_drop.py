# attack: leave a file in /dev/shm for a later submission to find
# target: dot
# expect: dropped
# needs: namespaces
def grad_dot(x):
    with open("/dev/shm/pwned-shm", "w") as handle:
        handle.write("hello from a previous student")
    raise RuntimeError("dropped a file")
