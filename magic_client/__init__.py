"""Client library for the MAGIC server (filled in by issue 3)."""
