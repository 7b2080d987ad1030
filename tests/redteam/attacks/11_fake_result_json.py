# attack: print a fake passing result as JSON on stdout
# target: dot
# expect: returned none
import json

def grad_dot(x):
    print(json.dumps({"score": 100, "max_score": 100, "status": "passed", "exercises": []}))
