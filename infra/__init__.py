"""Deployment: the AWS SAM template, the Lambda packages, the Slack app manifest and their checks."""
