"""TextGrad's ``textgrad.utils``."""
