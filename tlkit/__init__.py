"""tlkit: the helper library of the tlkit transfer-learning course."""
__version__ = "0.1.0"
