// k6 load test for the Docker Compose stack: the same closed loop as ./build.sh bench's generator —
// VUS clients, each placing its next order (tok_ok, one line) as soon as the last one was accepted.
//   k6 run -e VUS=16 -e DURATION=60s deploy/load/orders.js
// Environment: ORDERS_URL (http://localhost:5080), TOKEN_URL (Keycloak's token endpoint of realm conveyor),
// USERNAME / PASSWORD (a customer of the realm; the defaults are the realm's development user alice).
import http from "k6/http";
import { check } from "k6";

const ordersUrl = __ENV.ORDERS_URL || "http://localhost:5080";
const tokenUrl = __ENV.TOKEN_URL || "http://localhost:8180/realms/conveyor/protocol/openid-connect/token";

export const options = {
  scenarios: {
    closed_loop: {
      executor: "constant-vus",
      vus: Number(__ENV.VUS || 16),
      duration: __ENV.DURATION || "60s",
    },
  },
  thresholds: {
    // Every order must be accepted; latency is reported, not asserted.
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
    customerEmail: "bench@example.com",
    currency: "EUR",
    paymentToken: "tok_ok",
    lines: [{ sku: "BOOK-DDD", quantity: 1, unitPrice: 42.5 }],
  };
  const response = http.post(`${ordersUrl}/orders`, JSON.stringify(order), {
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${data.token}` },
  });
  check(response, { "order accepted (202)": (r) => r.status === 202 });
}
