"""The ingest Lambda: verify a Slack request, queue it, answer within Slack's 3 seconds.

Hot path: stdlib and ``shared`` only; boto3 only where AWS credentials are not in the environment
(see ``tests/unit/test_ingest_imports.py`` and ``ingest/aws/client.py``).
"""
