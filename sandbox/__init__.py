"""The local stack that ``make run`` starts on one machine; never shipped in a Lambda package."""
