#!/usr/bin/env bash
# Wrapper for build.ps1: restores the pinned tools (PowerShell among them) and hands over.
#   ./build.sh demo    bring the system up and follow an order through it
#   ./build.sh test    run every test against real RabbitMQ, PostgreSQL and SMTP
set -euo pipefail
cd "$(dirname "$0")"
dotnet tool restore > /dev/null
exec dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -File ./build.ps1 "$@"
