package proc

import (
	"os"
	"testing"
)

func TestReadUsageOfThisProcess(t *testing.T) {
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS < 1<<20 {
		t.Fatalf("RSS %d bytes: a Go test binary holds more than 1 MiB", u.RSS)
	}
	if _, err := ReadUsage(1 << 30); err == nil {
		t.Fatal("no error for a pid that does not exist")
	}
}
