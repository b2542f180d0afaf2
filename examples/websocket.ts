// A WebSocket echo with a plain HTTP fallback: `waitress-serve examples/websocket.ts`,
// then connect to ws://127.0.0.1:8080/ from a browser or `new WebSocket(...)`.
import { upgradeWebSocket } from "../mod.ts";

export default (request: Request): Response => {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("connect with a WebSocket client\n", { status: 426, headers: { upgrade: "websocket" } });
  }
  const { socket, response } = upgradeWebSocket(request, { idleTimeout: 30 });
  socket.onopen = () => socket.send("welcome");
  socket.onmessage = (event) => socket.send(event.data);
  return response;
};
