"""Kafka: the at-least-once batch consumer, the idempotent producer, topics and lag."""
