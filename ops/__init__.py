"""The ``slackbot`` command: talk to the sandbox, and (for SREs) look after the queues. Not shipped to Lambda."""
