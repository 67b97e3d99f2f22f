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

# nbgrader honours Execute.timeout (not ExecutePreprocessor.timeout; nbgrader issue 1463).
# Every cell of every chapter runs in well under this; a slower cell scores zero.
c.Execute.timeout = 60

# nbgrader's Execute with short polls of the kernel's channels: under load, nbclient can miss
# a reply and sleep a whole timeout (nbclient issue 312). Same timeout, same behaviour.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from dlcourse.grading.kernel import RobustExecute  # noqa: E402

c.Autograde.autograde_preprocessors = [RobustExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]

# Student notebooks ship without outputs, so diffs stay readable.
c.ClearOutput.enabled = True
