"""nbgrader configuration of the frozen one-chapter course the class-grading tests grade.

tests/grading/grading_course/ holds chapter 01 as it stood at commit 7942a16 (three exercises:
sigmoid 3 points, neuron_forward 2, train_neuron 3, and a written question). The tests of
the grading machinery (tests/grading/test_grading*.py, test_selfcheck.py) grade it, so they
do not move when the course's own chapter 01 changes.
"""

c = get_config()  # noqa: F821 — injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "dlcourse-grading-tests"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"

from dlcourse.grading.nbgrader_setup import configure  # noqa: E402

configure(c, timeout=60)
