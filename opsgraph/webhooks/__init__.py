"""Webhook primitives with no database: signing (Standard Webhooks), the address guard,
the HTTP sender and the retry schedule. The jobs that deliver and receive are in
``opsgraph.jobs``."""
