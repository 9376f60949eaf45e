"""Settings for the test suite: the same settings file, in its testing mode.

Not a separate configuration that could drift: it only switches PARCOURS_TESTING on
(fast password hasher, tasks run immediately, no login rate limits) before loading it.
"""

import os

os.environ["PARCOURS_TESTING"] = "1"

from parcours.settings import *  # noqa: E402,F403
