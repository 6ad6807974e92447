#!/bin/sh
# Installs the Python peers of guardrail-graph (differential tests, benchmarks).
set -eu
pip install --quiet -r "$(dirname "$0")/requirements.txt"
