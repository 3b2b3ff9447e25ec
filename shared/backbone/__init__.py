"""The mechanics every service shares, written once: event store, unit of work, outbox relay,
Kafka consumer, migrations, settings, logging, authentication and the service app factory."""
