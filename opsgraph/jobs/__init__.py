"""The queue's jobs (webhook deliveries, inbound receipts) and the worker that runs them."""
