package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

func TestReplyNamesTheProcess(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("BATON_SLOT", "0")
	t.Setenv("BATON_GENERATION", "1")
	if err := os.WriteFile("VERSION", []byte(" v42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := newHandler()
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "POST", "HEAD", "DELETE"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/", nil))
		want := fmt.Sprintf(`{"pid":%d,"slot":"0","generation":"1","dir":%q,"version":"v42"}`+"\n", os.Getpid(), dir)
		if rec.Code != 200 || rec.Body.String() != want {
			t.Fatalf("%s: %d %q, want 200 %q", method, rec.Code, rec.Body, want)
		}
	}
}

func TestReplyWithoutBatonOrVersion(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("BATON_SLOT", "")
	t.Setenv("BATON_GENERATION", "")
	h, err := newHandler()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?sleep=300ms", nil))
	want := fmt.Sprintf(`{"pid":%d,"slot":"","generation":"","dir":%q,"version":""}`+"\n", os.Getpid(), dir)
	if rec.Body.String() != want {
		t.Fatalf("got %q, want %q", rec.Body, want)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("?sleep=300ms answered after %v", took)
	}
}
