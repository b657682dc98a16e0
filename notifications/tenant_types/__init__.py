"""Tenant-defined event types: a tenant registers an event type through the API (its payload's JSON Schema,
channels and default templates per channel and locale) and its events are processed like built-ins, without a
deploy. See README.md."""
