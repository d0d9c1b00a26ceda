"""Bridges out of the alert bus for systems that do not speak Kafka: MQTT, signed webhooks, and a
DeepStream-style message mapping. Each bridge is a consumer group on the alert topic that commits
its offsets only after the far side acknowledged (at-least-once; receivers dedupe by
`X-Lookout-Delivery` / `delivery_id`)."""
