"""magic_server: the local MAGIC job server (ZeroMQ, protocol v1).

    python -m magic_server [--endpoint tcp://127.0.0.1:0] [--device auto] ...

Importing this package is cheap: torch is only loaded when the server runs
(`magic_server.engine`). The protocol and the client library live in
`magic_client`, which GIMP's Python can import without numpy or torch.
"""

from magic_common import __version__  # noqa: F401 - the one version of every part
