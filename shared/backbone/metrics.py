"""Prometheus metrics, defined once per process and labelled by service."""

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_BACKLOG = Gauge("outbox_backlog_events", "Events recorded but not yet acknowledged by Kafka", ["service"])
OUTBOX_OLDEST_AGE = Gauge("outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished event", ["service"])
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Events acknowledged by Kafka", ["service"])
OUTBOX_FAILURES = Counter("outbox_publish_failures_total", "Failed publish batches", ["service"])
CONSUMED = Counter("consumer_events_total", "Consumed events by outcome", ["consumer", "outcome"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route", "status"])
DEPENDENCY_RETRIES = Counter("dependency_retries_total", "Retries after a dependency was unavailable", ["component", "dependency"])
