"""What every part of magic-gimp agrees on, in the standard library only.

The engine (torch), the server, the client library (pyzmq), the installer
(before anything is installed) and the GIMP plug-in (GIMP's own Python, which
has neither torch nor, always, pyzmq) all import this package; the installer
copies it into the plug-in folder beside magic_client. One home per rule:

    paths.py    the per-user data folder (weights, keys, spool, logs)
    limits.py   image sizes the engine accepts, and when a mask pixel is inside
    choices.py  modes, presets' names, the defaults, the ranges of a run's numbers
    phases.py   what a job goes through (queued ... refine), as progress events name it
    region.py   the box type, and the region the engine works on around both masks
    endpoints.py  which server addresses stay on this computer
    checkpoints.py  the published classifier weights (checkpoints.json), their sha256
"""

__version__ = "0.1.0"
