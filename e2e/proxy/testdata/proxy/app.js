// An unmodified-style Node server for proxy mode: it binds $PORT (or
// $HTTP_PORT) itself. GRACE=1 drains on SIGTERM the usual way, with
// server.close(); without it, Node dies at once on SIGTERM.
// GET /?sleep=MS answers after MS; /events streams server-sent events;
// an Upgrade request becomes a raw echo connection (a stand-in for a WebSocket).
const http = require('http');
const port = Number(process.env.PORT || process.env.HTTP_PORT);
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    let n = 0;
    const t = setInterval(() => { res.write(`data: ${n++}\n\n`); if (n === 3) { clearInterval(t); res.end(); } }, 300);
    return;
  }
  req.resume();
  const ms = Number(u.searchParams.get('sleep') || 0);
  setTimeout(() => res.end(`${process.pid} ${process.env.BATON_GENERATION}\n`), ms);
});
server.on('upgrade', (req, sock) => {
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
  sock.on('data', (d) => sock.write(d));
  sock.on('end', () => sock.end());
});
// KEEPALIVE_MS=1: the classic race, idle connections closed (Node 20.20+: after 1 s more).
if (process.env.KEEPALIVE_MS) server.keepAliveTimeout = Number(process.env.KEEPALIVE_MS);
// HOST: where to listen (a program told "localhost" may bind ::1 alone).
server.listen(port, process.env.HOST || '127.0.0.1');
if (process.env.GRACE) process.on('SIGTERM', () => server.close(() => process.exit(0)));
