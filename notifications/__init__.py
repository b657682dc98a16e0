"""Multi-tenant, Kafka-native notification service (Django app)."""
