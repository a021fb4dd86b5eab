"""What a MAGIC run may ask for: the modes, the presets' names, the defaults that
every front end (the engine's API and command line, the server, the plug-in) uses
when a run does not say, and the ranges of its numbers. The engine defines what
each mode and preset does (magic_engine/config.py) and checks it has exactly these.
"""

MODES = ("position", "shape", "scene")
PRESET_NAMES = ("paper", "standard", "preview", "tiny")
DEFAULT_MODE = "position"  # what designers do most: move an object
DEFAULT_PRESET = "preview"  # about a minute on a laptop CPU

# Inclusive ranges of a run's numbers.
VARIANTS = (1, 16)  # results of one run: each costs memory and time at the photo's resolution
WORK_SIZE = (32, 1024)  # px: the side of level 0, where the classifier works
ITERATIONS = (1, 100_000)  # MAGIC's steps at level 0
