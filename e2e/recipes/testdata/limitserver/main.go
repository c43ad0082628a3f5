// Command limitserver is a worker for the limits' end-to-end tests, built
// on package worker like examples/hello (sockets, READY=1, WATCHDOG=1
// pings, the drain): GET or POST / answers {"pid":N}; /grow?mb=N
// allocates and touches N MiB more, held until the process exits, to
// push it over --max-memory. With -addr it binds that address (proxy
// mode's {port}) when no socket is inherited.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/batonhq/baton/worker"
)

var (
	mu   sync.Mutex
	held [][]byte // what /grow allocated
)

func main() {
	addr := "127.0.0.1:8080"
	if len(os.Args) > 2 && os.Args[1] == "-addr" {
		addr = os.Args[2]
	}
	ln, err := worker.Listen("http", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/grow", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touch every page: resident, not just reserved
		}
		mu.Lock()
		held = append(held, b)
		mu.Unlock()
		fmt.Fprintf(w, "{\"pid\":%d,\"grown_mb\":%d}\n", os.Getpid(), mb)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "{\"pid\":%d}\n", os.Getpid())
	})
	ctx, stop := worker.SignalContext(context.Background())
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := worker.Serve(ctx, &http.Server{Handler: mux}, []net.Listener{ln}, worker.Logger(log)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
