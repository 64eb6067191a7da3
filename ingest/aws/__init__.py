"""The ingest's own AWS client: SigV4 (``sigv4.py``) and AWS's JSON protocol (``client.py``), stdlib only."""
