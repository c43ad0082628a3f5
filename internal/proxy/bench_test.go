package proxy

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
)

// BenchmarkHTTPProxy measures requests through the HTTP proxy to one
// in-process backend with the project's keep-alive client; compare with
// BenchmarkHTTPDirect for the proxy's own cost.
//
//	go test -run '^$' -bench HTTP -cpuprofile cpu.out ./internal/proxy/
func BenchmarkHTTPProxy(b *testing.B) {
	pool := NewPool(time.Second)
	backend := httpBackend(b, okHandler("hello"))
	pool.Add(backend)
	benchLoad(b, startHTTP(b, pool))
}

func BenchmarkHTTPDirect(b *testing.B) {
	backend := httpBackend(b, okHandler("hello"))
	benchLoad(b, backend.Addr())
}

func benchLoad(b *testing.B, addr string) {
	b.ResetTimer()
	res, err := loadtest.Run(context.Background(), loadtest.Options{Addr: addr, Conns: 16, Requests: b.N, Method: "GET"})
	if err != nil || res.Failed != 0 {
		b.Fatalf("%v %s", err, res)
	}
}
