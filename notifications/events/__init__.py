"""Event envelope, handler contract and registry."""
