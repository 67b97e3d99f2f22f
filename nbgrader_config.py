"""nbgrader configuration for the dlcourse repository.

solutions/<chapter>/  is nbgrader's *source* directory (the instructor's notebooks),
course/<chapter>/     is its *release* directory (the student notebooks, committed).

`dlcourse release` and `dlcourse grade` use this file; plain `nbgrader ...` commands run
from the repository root use it too.
"""

c = get_config()  # noqa: F821 — injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
# Instructor state stays out of the repository (see .gitignore).
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Autograding runs each student's cells in a sandboxed kernel and the tests in a trusted
# process (dlcourse.grading.two_process); feedback never shows hidden tests. The lists live
# in dlcourse.grading.nbgrader_setup, shared with `dlcourse grade`. Every cell of every
# chapter runs in well under the 60 s per-cell limit; a slower cell scores zero.
from dlcourse.grading.nbgrader_setup import configure  # noqa: E402

configure(c, timeout=60)

# Student notebooks ship without outputs, so diffs stay readable.
c.ClearOutput.enabled = True
