-- The W3C trace context of the request that wrote the event: `traceparent` was there from the
-- start, `tracestate` (vendor data that travels with it) joins it. The relay sends both as NATS
-- headers, so the consumer's span continues the producer's trace.
ALTER TABLE platform.outbox ADD COLUMN tracestate text;
