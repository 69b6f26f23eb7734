-- Inventory's own database: the stock, each order's reservation, and the tables behind its delivery guarantees.

CREATE TABLE stock (
    sku       text PRIMARY KEY,
    available int  NOT NULL CHECK (available >= 0),
    reserved  int  NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    sold      int  NOT NULL DEFAULT 0 CHECK (sold >= 0)
);

-- One row per order Inventory has decided on; 'Cancelled' is the tombstone of an order cancelled before it was placed.
CREATE TABLE reservations (
    order_id   uuid PRIMARY KEY,
    status     text NOT NULL CHECK (status IN ('Reserved', 'Unavailable', 'Released', 'Sold', 'Cancelled')),
    lines      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The ids of messages handled, written in the handling transaction: a redelivery finds its id and changes nothing.
CREATE TABLE inbox (
    message_id text PRIMARY KEY,
    handled_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_handled_at ON inbox (handled_at);

-- Messages committed with the state that caused them, waiting for the broker's confirm.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    exchange    text NOT NULL,
    routing_key text NOT NULL DEFAULT '',
    properties  jsonb NOT NULL,
    headers     jsonb NOT NULL,
    body        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Deliveries that failed their immediate retries, waiting (here, not on the broker) for their next attempt.
CREATE TABLE delayed_retries (
    id               bigserial PRIMARY KEY,
    message_id       text NOT NULL,
    properties       jsonb NOT NULL,
    headers          jsonb NOT NULL,
    body             bytea NOT NULL,
    attempts         int NOT NULL,
    delayed_rounds   int NOT NULL,
    first_failure_at timestamptz NOT NULL,
    last_failure_at  timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text
);
CREATE INDEX delayed_retries_due ON delayed_retries (next_attempt_at);
