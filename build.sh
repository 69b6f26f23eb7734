#!/usr/bin/env bash
# Wrapper for build.ps1: restores the pinned tools (PowerShell among them) and hands over.
#   ./build.sh demo           bring the system up and follow an order through it
#   ./build.sh test           run every test against real RabbitMQ, PostgreSQL and SMTP
#   ./build.sh bench --quick  a short benchmark (options in GNU style work too: --quick is -Quick,
#                             --chaos-orders is -ChaosOrders)
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v dotnet > /dev/null; then
  echo "./build.sh needs the .NET SDK $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' global.json) or a later 10.0 one (global.json), and dotnet on the PATH." >&2
  exit 1
fi
# The SDK restores the manifest's tools in parallel, which races on an empty tool cache: the first restore fails
# with "The command ... is not contained in the package" (dotnet/efcore#38895) after the packages have landed in
# the cache, and the second one succeeds. So a failed restore is tried once more before it counts.
if ! restored=$(dotnet tool restore 2>&1); then
  restored=$(dotnet tool restore 2>&1) || { echo "$restored" >&2; exit 1; }
fi
args=()
for arg in "$@"; do
  case "$arg" in
    --*) name="${arg#--}"; args+=("-${name//-/}") ;;
    *) args+=("$arg") ;;
  esac
done
exec dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -File ./build.ps1 "${args[@]}"
