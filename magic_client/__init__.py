"""Client library for the local MAGIC server, and the protocol both share.

Standard library + pyzmq only: the installer copies this package into the
GIMP plug-in folder, where GIMP's Python has no numpy, torch or Pillow.

    from magic_client import MagicClient
    with MagicClient.connect() as client:
        print(client.hello()["presets"])
"""

from .client import JobResult, MagicClient
from .errors import (JobCancelled, JobFailed, MagicClientError, ProtocolError, ServerError, ServerUnavailable,
                     WaitTimeout)
from .protocol import PROTOCOL_VERSION

__all__ = [
    "JobCancelled", "JobFailed", "JobResult", "MagicClient", "MagicClientError", "PROTOCOL_VERSION",
    "ProtocolError", "ServerError", "ServerUnavailable", "WaitTimeout",
]
