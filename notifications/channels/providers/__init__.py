"""One vendor per module."""
