"""``tcli.utils``."""
