"""The delivery worker: claim due records, render, send, record the outcome, retry with backoff."""
