// Package worker makes a Go server restart-friendly: the same binary runs
// under baton, under systemd (socket activation and Type=notify), and on
// its own, and it never loses a request when it is replaced.
//
//   - [Listen] returns the listening socket the supervisor passed down
//     (systemd's protocol: fds 3, 4, ... described by LISTEN_FDS,
//     LISTEN_PID and LISTEN_FDNAMES), or binds a fallback address itself
//     when there is none. [Listeners] returns all of them.
//   - [Ready], [Status], [Stopping] and [Notify] speak systemd's notify
//     protocol to $NOTIFY_SOCKET; without it they do nothing.
//   - [Watchdog] sends WATCHDOG=1 while a check passes, for the
//     supervisor's watchdog (baton's --watchdog, systemd's WatchdogSec=);
//     Serve and Run do it themselves when WATCHDOG_USEC asks for it.
//   - [Serve] serves an *http.Server, reports READY=1 once it accepts,
//     and when its context ends (see [SignalContext]: SIGTERM or SIGINT)
//     drains without the keep-alive close race, then runs [OnShutdown]
//     hooks, last registered first. [Run] does the same for any server.
//
// A complete server:
//
//	func main() {
//		ln, err := worker.Listen("http", "127.0.0.1:8080")
//		if err != nil {
//			log.Fatal(err)
//		}
//		db := openDB()
//		ctx, stop := worker.SignalContext(context.Background())
//		defer stop()
//		srv := &http.Server{Handler: newMux(db)}
//		err = worker.Serve(ctx, srv, []net.Listener{ln},
//			worker.OnShutdown(func(context.Context) error { return db.Close() }))
//		if err != nil {
//			log.Fatal(err)
//		}
//	}
//
// # Why not http.Server.Shutdown
//
// Shutdown closes idle keep-alive connections at once. A client may have
// sent its next request on such a connection at that very moment; it gets
// EOF or a reset for a request the server never read, and clients that do
// not retry (POSTs, wrk, most non-Go clients) report an error. Serve
// instead stops accepting, answers every further response with
// "Connection: close", and closes a connection that stays idle only after
// a short linger ([IdleLinger]). The package's tests measure both under
// keep-alive load with a client that never retries.
//
// # Process-wide state
//
// The sockets passed down at start are the only process-wide state: the
// activation environment belongs to the process and is consumed once.
// The first call of Listen or Listeners takes the descriptors (guarded by
// a sync.Once), marks them close-on-exec, unsets LISTEN_FDS, LISTEN_PID
// and LISTEN_FDNAMES so child processes do not inherit them, and keeps
// them open; every call hands out new listeners on duplicates of them.
// Options such as shutdown hooks belong to one Serve or Run call.
//
// # Platforms
//
// Socket activation and the notify protocol are implemented for Linux,
// where baton and systemd run. The package builds everywhere else too, so
// that a program using it can be developed and run on macOS or Windows:
// there Listen always binds its fallback address, Listeners returns no
// socket, and Notify, Ready, Status and Stopping do nothing. Serve and Run
// drain on every system.
//
// The package depends only on the standard library and golang.org/x/sys.
package worker
