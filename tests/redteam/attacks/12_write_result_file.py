# attack: write a fake grades file next to the grader
# target: dot
# expect: permissionerror
# needs: landlock
def grad_dot(x):
    with open(REPO + "/pwned-grades.csv", "w") as handle:
        handle.write("student,score\nme,100\n")
