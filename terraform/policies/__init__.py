"""flightdeck custom checkov policies (loaded with --external-checks-dir terraform/policies)."""
