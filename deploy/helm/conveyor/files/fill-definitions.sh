#!/bin/sh
# fill-definitions.sh TEMPLATE OUTPUT: writes the broker definitions generated from the topology with every
# ${CONVEYOR_...} placeholder in them (the users' passwords, the Helm chart's vhost) replaced by the environment
# variable of that name, and fails naming the first one that is not set. The values must not contain | & \ or ".
# Shared by compose's broker (start.sh) and the Helm chart's set-up job, which gets a generated copy.
set -eu
template="$1"
output="$2"

script=""
for variable in $(grep -o '\${CONVEYOR_[A-Z_]*}' "$template" | tr -d '${}' | sort -u); do
  eval "value=\${$variable:-}"
  if [ -z "$value" ]; then
    echo "$variable must be set" >&2
    exit 1
  fi
  script="$script -e s|\${$variable}|$value|g"
done

# shellcheck disable=SC2086 # one -e per placeholder
sed $script "$template" > "$output"
