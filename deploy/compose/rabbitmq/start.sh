#!/bin/sh
# Fills the broker definitions generated from the topology (definitions.json beside this script: the vhost, a user
# per endpoint with the permissions its messaging needs, every exchange, error) with the passwords docker-compose.yml
# passes, one per user, and starts RabbitMQ as the image would; rabbitmq.conf's load_definitions imports the result.
set -eu
here="$(dirname "$0")"
template="${CONVEYOR_DEFINITIONS_TEMPLATE:-$here/definitions.json}"
# Where rabbitmq.conf's load_definitions looks (a test renders it elsewhere).
definitions="${CONVEYOR_DEFINITIONS_FILE:-/tmp/conveyor-definitions.json}"

sh "$here/fill-definitions.sh" "$template" "$definitions"
exec docker-entrypoint.sh rabbitmq-server
