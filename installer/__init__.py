"""One-command installer for magic-gimp (standard library only, Python 3.9+).

It runs before any virtual environment exists, so nothing here may import
torch, numpy, pyzmq or the magic_* packages. `install.py` is the command
line; each module below does one job:

  locations       where things go (data dir, weights, venv, install record)
  checkpoints     choosing from the weights manifest (magic_common/checkpoints.json)
  download        resumable, verified HTTP downloads and local copies
  record          the install record: what this installer created
  gimp_dirs       GIMP 3 user folders (native, flatpak, macOS, Windows)
  gimp_python     the Python GIMP runs plug-ins with, and whether it has pyzmq
  plugin_install  copying the plug-in and writing its configuration
  pyzmq_vendor    putting a matching pyzmq wheel next to the plug-in
  server_env      the server's venv, torch for this machine, the server package
  service         optional systemd user unit
  doctor          `--check`
  uninstall       `--uninstall`
  cli             argument parsing and the order of the steps
"""
