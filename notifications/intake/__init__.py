"""Batch intake: validate, dedupe, route, resolve recipients, apply preferences, persist."""
