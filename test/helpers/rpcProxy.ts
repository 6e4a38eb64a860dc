/**
 * A JSON-RPC proxy for fault tests (issue 17): it forwards HTTP JSON-RPC requests to an upstream (a Hardhat node or
 * the Alto bundler) and can be told, at any moment, to fail the way real endpoints fail: answer 503, hang until the
 * client times out, drop `eth_sendUserOperation` while claiming to hold the op, or forward to another upstream (a
 * bundler restarted on a new port). It records what passed through.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the proxy answers now. */
export type ProxyMode =
  /** Forward every request. */
  | "forward"
  /** Answer every request with HTTP 503. */
  | "unavailable"
  /** Never answer (the client's request times out). */
  | "hang"
  /** Answer `eth_sendUserOperation` with the op's claimed hash without forwarding it, receipts with null, and
   * `eth_getUserOperationByHash` as if the op were pending: a receipt that never comes. */
  | "blackhole";

export interface RpcProxy {
  url: string;
  mode: ProxyMode;
  /** Where requests go (change it to follow a restarted upstream). */
  upstream: string;
  /** Every JSON-RPC request that reached the proxy, in order, with its params. */
  requests: { method: string; params: unknown[] }[];
  /** Called with each request before it is handled (e.g. to change the mode after the first send). */
  onRequest?: (method: string, params: unknown[]) => void;
  close(): Promise<void>;
}

/** Starts a proxy to `upstream` on a free local port. */
export async function startRpcProxy(upstream: string): Promise<RpcProxy> {
  const hanging = new Set<ServerResponse>();
  const proxy: RpcProxy = {
    url: "",
    mode: "forward",
    upstream,
    requests: [],
    close: async () => {
      for (const response of hanging) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const payload = JSON.parse(body) as { id: number; method: string; params?: unknown[] };
      const params = payload.params ?? [];
      proxy.requests.push({ method: payload.method, params });
      proxy.onRequest?.(payload.method, params);
      const reply = (status: number, content: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(content));
      };
      switch (proxy.mode) {
        case "unavailable":
          reply(503, { error: "unavailable (fault injected)" });
          return;
        case "hang":
          hanging.add(response);
          response.on("close", () => hanging.delete(response));
          return;
        case "blackhole":
          if (payload.method === "eth_sendUserOperation") {
            reply(200, { jsonrpc: "2.0", id: payload.id, result: "0x" + "00".repeat(32) });
            return;
          }
          if (payload.method === "eth_getUserOperationReceipt") {
            reply(200, { jsonrpc: "2.0", id: payload.id, result: null });
            return;
          }
          if (payload.method === "eth_getUserOperationByHash") {
            reply(200, { jsonrpc: "2.0", id: payload.id, result: { userOperation: {} } });
            return;
          }
          break;
        case "forward":
          break;
      }
      fetch(proxy.upstream, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (upstreamResponse) => {
          response.writeHead(upstreamResponse.status, { "content-type": "application/json" });
          response.end(await upstreamResponse.text());
        })
        .catch(() => {
          // The upstream is down: as a client would see a dead endpoint behind a load balancer.
          reply(502, { error: "upstream unreachable" });
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
