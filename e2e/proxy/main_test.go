package proxy

import (
	"testing"

	"github.com/batonhq/baton/internal/e2etest"
)

// TestMain builds baton and the example server once for all the tests.
func TestMain(m *testing.M) { e2etest.Main(m) }
