# attack: flood stdout forever
# target: dot
# expect: time limit
def grad_dot(x):
    while True:
        print("flood " * 1000)
