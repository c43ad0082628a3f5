// A plain Node.js server as most are written: it binds $PORT and, on a stop
// signal, drains "the usual way" with server.close(). Used by
// bench/compare.sh under PM2's cluster mode and behind baton --proxy http.
const http = require('http');
const port = Number(process.env.PORT || 8080);
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`${process.pid}\n`);
});
server.listen(port, '127.0.0.1', () => { if (process.send) process.send('ready'); });
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop); // what PM2 sends
process.on('SIGTERM', stop); // what baton sends
