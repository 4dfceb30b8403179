"""mlmcourse: the helper package of the multilevel-models course."""
