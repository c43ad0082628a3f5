//go:build !unix || aix

package worker

import "net"

// pendingInput reports no waiting bytes where a socket cannot be peeked
// without blocking (Windows, AIX): the drain then relies on IdleLinger alone.
func pendingInput(net.Conn) bool { return false }
