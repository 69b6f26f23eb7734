#!/bin/sh
# Writes Conveyor's broker definitions from the environment, then starts RabbitMQ as the image would.
# They mirror build.ps1 ($BrokerUsers, Get-BrokerPermissions): vhost `conveyor` (quorum queues by default),
# the operator's user `conveyor`, and one user per endpoint allowed only what its own messaging needs —
# configure its queue, `error`, its reply queues and the exchanges it publishes or subscribes to; write to
# those and the default exchange; read its own queue, reply queues, `error` and what it subscribes to.
# Definitions take plain passwords and hash them on import. The passwords must not contain " or \.
set -eu
: "${CONVEYOR_BROKER_PASSWORD:?CONVEYOR_BROKER_PASSWORD must be set (docker-compose.yml passes it)}"
: "${CONVEYOR_BROKER_ADMIN_PASSWORD:?CONVEYOR_BROKER_ADMIN_PASSWORD must be set (docker-compose.yml passes it)}"

# Where rabbitmq.conf's load_definitions looks (a test renders it elsewhere).
definitions="${CONVEYOR_DEFINITIONS_FILE:-/tmp/conveyor-definitions.json}"
reply='wolverine\\.response\\..+'
permission() { # user configure write read
  printf '    {"user": "%s", "vhost": "conveyor", "configure": "^(%s)$", "write": "^(%s)$", "read": "^(%s)$"},\n' "$1" "$2" "$3" "$4"
}

cat > "$definitions" <<JSON
{
  "vhosts": [
    {"name": "conveyor", "default_queue_type": "quorum", "metadata": {"description": "Conveyor", "default_queue_type": "quorum"}}
  ],
  "users": [
    {"name": "conveyor", "password": "$CONVEYOR_BROKER_ADMIN_PASSWORD", "tags": ["management"]},
    {"name": "orders", "password": "$CONVEYOR_BROKER_PASSWORD", "tags": []},
    {"name": "payments", "password": "$CONVEYOR_BROKER_PASSWORD", "tags": []},
    {"name": "notifications", "password": "$CONVEYOR_BROKER_PASSWORD", "tags": []},
    {"name": "servicecontrol", "password": "$CONVEYOR_BROKER_PASSWORD", "tags": ["monitoring"]}
  ],
  "permissions": [
$(permission orders "error|OrderCancelled|OrderConfirmed|OrderPlaced|orders|PaymentAuthorized|PaymentDeclined|PaymentRefunded|$reply" \
                    "amq\\\\.default|error|OrderCancelled|OrderConfirmed|OrderPlaced|orders|$reply" \
                    "error|orders|PaymentAuthorized|PaymentDeclined|PaymentRefunded|$reply")
$(permission payments "error|OrderCancelled|OrderPlaced|PaymentAuthorized|PaymentDeclined|PaymentRefunded|payments|$reply" \
                      "amq\\\\.default|error|PaymentAuthorized|PaymentDeclined|PaymentRefunded|payments|$reply" \
                      "error|OrderCancelled|OrderPlaced|payments|$reply")
$(permission notifications "error|notifications|OrderCancelled|OrderConfirmed|OrderPlaced|PaymentRefunded|$reply" \
                           "amq\\\\.default|error|notifications|$reply" \
                           "error|notifications|OrderCancelled|OrderConfirmed|OrderPlaced|PaymentRefunded|$reply")
$(permission servicecontrol "error|servicecontrol|$reply" \
                            "amq\\\\.default|error|servicecontrol|$reply" \
                            "error|servicecontrol|$reply")
    {"user": "conveyor", "vhost": "conveyor", "configure": ".*", "write": ".*", "read": ".*"}
  ]
}
JSON

exec docker-entrypoint.sh rabbitmq-server
