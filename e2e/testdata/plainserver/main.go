// Command plainserver is the example server without baton's drain: it
// takes the inherited socket and notifies readiness like hello, but on
// SIGTERM it calls plain http.Server.Shutdown, which closes idle keep-alive
// connections at once. The tests use it to show what the library's drain
// prevents.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	f := os.NewFile(3, "http")
	ln, err := net.FileListener(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.Close()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "{\"pid\":%d,\"generation\":%q}\n", os.Getpid(), os.Getenv("BATON_GENERATION"))
	})}
	go func() { _ = srv.Serve(ln) }()
	if c, err := net.Dial("unixgram", os.Getenv("NOTIFY_SOCKET")); err == nil {
		_, _ = c.Write([]byte("READY=1"))
		c.Close()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	_ = srv.Shutdown(context.Background())
}
