// k6 load test for the Docker Compose stack: the same closed loop as ./build.sh bench's generator —
// VUS clients, each placing an order (tok_ok, one line) and placing the next once the last one's confirmation
// e-mail has arrived (looked up in Mailpit by its Message-ID every 20 ms, as the bench looks in the database).
//   k6 run -e ORDERS_URL=... -e VUS=16 -e DURATION=60s deploy/load/orders.js
// Environment: ORDERS_URL (required: the Orders API, whose address is in docs/deployment.md), TOKEN_URL (Keycloak's token endpoint of realm conveyor),
// MAILPIT_URL (http://localhost:8025), USERNAME / PASSWORD (a customer of the realm; the defaults are the
// realm's development user alice).
import http from "k6/http";
import { check, sleep } from "k6";
import { Trend } from "k6/metrics";

const ordersUrl = __ENV.ORDERS_URL;
if (!ordersUrl) throw new Error("ORDERS_URL is not set: the Orders API's address (docs/deployment.md lists it), e.g. -e ORDERS_URL=$ORDERS");
const tokenUrl = __ENV.TOKEN_URL || "http://localhost:8180/realms/conveyor/protocol/openid-connect/token";
const mailpitUrl = __ENV.MAILPIT_URL || "http://localhost:8025";

// From sending the order to seeing its confirmation e-mail: what a client waits per order.
const cycle = new Trend("order_cycle", true);

export const options = {
  scenarios: {
    closed_loop: {
      executor: "constant-vus",
      vus: Number(__ENV.VUS || 16),
      duration: __ENV.DURATION || "60s",
    },
  },
  thresholds: {
    // Every order must be accepted and e-mailed; latency is reported, not asserted.
    checks: ["rate==1.0"],
  },
};

// One token for the run, renewed by the caller for runs longer than the realm's 5-minute lifetime.
export function setup() {
  const response = http.post(tokenUrl, {
    grant_type: "password",
    client_id: "conveyor-cli",
    username: __ENV.USERNAME || "alice",
    password: __ENV.PASSWORD || "alice-dev-only", // LOCAL DEVELOPMENT DEFAULT ONLY
    scope: "openid conveyor-api",
  });
  check(response, { "token issued": (r) => r.status === 200 });
  return { token: response.json("access_token") };
}

export default function (data) {
  const order = {
    currency: "EUR",
    paymentToken: "tok_ok",
    lines: [{ sku: "BOOK-DDD", quantity: 1 }], // priced by Orders from deploy/catalog.json
  };
  const sent = Date.now();
  const response = http.post(`${ordersUrl}/orders`, JSON.stringify(order), {
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${data.token}`,
      "Idempotency-Key": `k6-${__VU}-${__ITER}-${sent}`,
    },
  });
  if (!check(response, { "order accepted (202)": (r) => r.status === 202 })) return;

  // The confirmation e-mail's Message-ID is <order id without dashes>.orderconfirmed@conveyor.example.
  const messageId = `${response.json("id").replace(/-/g, "")}.orderconfirmed@conveyor.example`;
  const search = `${mailpitUrl}/api/v1/search?query=${encodeURIComponent(`message-id:"${messageId}"`)}`;
  const deadline = sent + 60000;
  let mailed = false;
  while (!mailed && Date.now() < deadline) {
    sleep(0.02); // the next look at Mailpit
    mailed = http.get(search, { tags: { name: "mailpit search" } }).json("messages_count") > 0;
  }
  check(mailed, { "order e-mailed within 60 s": (m) => m });
  if (mailed) cycle.add(Date.now() - sent);
}
