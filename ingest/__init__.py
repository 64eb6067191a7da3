"""The ingest Lambda: verify a Slack request, queue it, answer within Slack's 3 seconds.

Hot path: stdlib and boto3 only (see ``tests/unit/test_ingest_imports.py``).
"""
