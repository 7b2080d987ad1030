# attack: phone home over the network
# target: dot
# expect: operation not permitted
# needs: seccomp
import socket

def grad_dot(x):
    socket.create_connection(("127.0.0.1", 9), timeout=1).sendall(b"answers please")
