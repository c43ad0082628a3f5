// Command hello is baton's example server, built only on package worker:
// it takes its socket from baton or systemd (or binds -addr when run
// alone), reports READY=1, answers every request on / with one JSON line
// naming the process that served it, and drains on SIGTERM.
//
//	GET /              {"pid":123,"slot":"0","generation":"1","dir":"/srv/app","version":"42"}
//	GET /?sleep=300ms  the same, after 300 ms (to have requests in flight)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/batonhq/baton/worker"
)

type reply struct {
	PID        int    `json:"pid"`
	Slot       string `json:"slot"`
	Generation string `json:"generation"`
	Dir        string `json:"dir"`
	Version    string `json:"version"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to bind when no socket is inherited")
	readyDelay := flag.Duration("ready-delay", 0, "wait this long before serving (simulates a slow start)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix(fmt.Sprintf("hello[%d]: ", os.Getpid()))
	if err := run(*addr, *readyDelay); err != nil {
		log.Fatal(err)
	}
}

func run(addr string, readyDelay time.Duration) error {
	ln, err := worker.Listen("http", addr)
	if err != nil {
		return err
	}
	dir, _ := os.Getwd()
	version, _ := os.ReadFile("VERSION")
	me := reply{PID: os.Getpid(), Slot: os.Getenv("BATON_SLOT"), Generation: os.Getenv("BATON_GENERATION"),
		Dir: dir, Version: strings.TrimSpace(string(version))}
	body, err := json.Marshal(me)
	if err != nil {
		return err
	}
	body = append(body, '\n')
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil && d > 0 {
			time.Sleep(d)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	time.Sleep(readyDelay)
	ctx, stop := worker.SignalContext(context.Background())
	defer stop()
	log.Printf("serving on %s", ln.Addr())
	_ = worker.Status("serving")
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	err = worker.ServeHTTP(ctx, srv, []net.Listener{ln},
		worker.OnShutdown(func(context.Context) error { log.Print("drained"); return nil }))
	return err
}
