"""The worker Lambda: reads the SQS batch, dedupes, routes each message to a skill and replies to Slack."""
