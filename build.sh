#!/usr/bin/env bash
# Wrapper for build.ps1: restores the pinned tools (PowerShell among them) and hands over.
#   ./build.sh demo           bring the system up and follow an order through it
#   ./build.sh test           run every test against real RabbitMQ, PostgreSQL and SMTP
#   ./build.sh bench --quick  a short benchmark (options in GNU style work too: --quick is -Quick,
#                             --chaos-orders is -ChaosOrders)
set -euo pipefail
cd "$(dirname "$0")"
dotnet tool restore > /dev/null
args=()
for arg in "$@"; do
  case "$arg" in
    --*) name="${arg#--}"; args+=("-${name//-/}") ;;
    *) args+=("$arg") ;;
  esac
done
exec dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -File ./build.ps1 "${args[@]}"
