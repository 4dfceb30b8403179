"""Course tools: offline reveal.js slides (slides.py) and executing the notebooks (execute.py)."""
