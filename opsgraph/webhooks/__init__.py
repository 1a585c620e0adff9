"""Webhooks both ways: outbound endpoints, signing and deliveries; inbound receivers."""
