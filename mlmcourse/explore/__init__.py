"""The interactive explorations of chapter 2.

from mlmcourse.explore import icc_explorer, noise_explorer
icc_explorer()
noise_explorer(dat)

explorers.py  the four explorations (controls + render function)
classroom.py  numbers on the classroom data (from the chapter's cached fits)
sim.py        simulations (pure functions of the widget values)
fastfit.py    a millisecond REML fit of y ~ x + (1|g) for the simulations
figures.py    the figures, updated in place
render.py     fast PNG rendering (blitting)
controls.py   the sliders and the Exploration box: controls, one image that updates, a message line
"""
from .explorers import icc_explorer, noise_explorer, separate_regressions_explorer, variance_partition_explorer

__all__ = ["icc_explorer", "noise_explorer", "separate_regressions_explorer", "variance_partition_explorer"]
