"""MAGIC job server (filled in by issue 3)."""
