"""Route modules, one per feature; each exposes ``router``."""
