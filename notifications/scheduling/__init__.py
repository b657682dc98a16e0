"""When a notification goes: scheduling and delay (see README.md)."""
