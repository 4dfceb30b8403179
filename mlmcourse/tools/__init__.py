"""Course tools: building, checking and launching the course.

slides.py   offline reveal.js slides of a notebook
book.py     the offline web book of every notebook, and its PDF
vendor.py   the npm libraries vendored at build time, and the check that a page loads nothing remote
execute.py  re-running the notebooks (``make execute``), alt text attached to their images
launch.py   ``mlmcourse lab`` and ``mlmcourse test``: the course's two commands without make
"""
