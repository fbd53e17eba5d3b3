"""Terraform against a local endpoint: staging, drivers, provider mirrors, plan checks.

``lambda_harness.terraform.deploy`` is the public face; these modules are its parts.
"""
