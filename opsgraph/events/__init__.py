"""The event stream: what changed, written by the services in the transaction of the change
(``emit``), read by the ``events`` feed and delivered to webhook endpoints by the queue."""
