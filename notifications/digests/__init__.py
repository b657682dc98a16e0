"""Digests: a tenant's events of one kind, held in a window and sent as one message (see README.md)."""
