"""The GIMP-free half of the MAGIC plug-in: mask and crop arithmetic, byte
conversions, layer names, progress text and user messages.

Nothing here imports gi, Gimp, zmq or numpy (numpy is used when present), so
it runs in GIMP's Python and is unit-tested on any Python 3.10+.
"""
