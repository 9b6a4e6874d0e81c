"""Learnscape: the Dash site and the numpy models behind its lessons."""

import os

# The models' matrices are small and a worker already serves many requests on
# few cores: extra BLAS threads only oversubscribe them. Must precede numpy.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
