"""Tenant rules: an ordered, versioned list of declarative rules evaluated at intake (README.md)."""
