"""moto in server mode for the tests: the sandbox's own (see ``sandbox/moto.py``)."""

from sandbox.moto import AWS_TEST_ENV, MotoServer, free_port

__all__ = ["AWS_TEST_ENV", "MotoServer", "free_port"]
