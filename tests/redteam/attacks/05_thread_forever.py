# attack: a thread that never ends, joined forever
# target: dot
# expect: time limit
import threading

def grad_dot(x):
    worker = threading.Thread(target=lambda: [None for _ in iter(int, 1)])
    worker.start()
    worker.join()
