// Package worker makes a Go server restart-friendly under baton, under
// systemd socket activation, and on its own, unchanged:
//
//   - [Listen] takes the listening socket the supervisor passed down
//     (LISTEN_FDS / LISTEN_PID / LISTEN_FDNAMES) or, when there is none,
//     binds a fallback address itself;
//   - [Ready], [Status] and [Stopping] speak systemd's notify protocol
//     (no-ops without NOTIFY_SOCKET);
//   - [ServeHTTP] serves an *http.Server and, on SIGTERM/SIGINT or when its
//     context ends, drains it without the keep-alive close race, then runs
//     shutdown hooks in reverse order of registration.
//
// A complete server:
//
//	func main() {
//		ln, err := worker.Listen("http", "127.0.0.1:8080")
//		if err != nil {
//			log.Fatal(err)
//		}
//		srv := &http.Server{Handler: mux}
//		ctx, stop := worker.SignalContext(context.Background())
//		defer stop()
//		err = worker.ServeHTTP(ctx, srv, []net.Listener{ln},
//			worker.OnShutdown(func(context.Context) error { return db.Close() }))
//		if err != nil {
//			log.Fatal(err)
//		}
//	}
//
// The package depends only on the standard library and golang.org/x/sys.
package worker
