package sockets

import "os"

// Files returns the descriptors in order, for exec.Cmd.ExtraFiles: the
// first lands on fd 3 (wire.FirstFD).
func Files(socks []*Socket) []*os.File {
	out := make([]*os.File, len(socks))
	for i, s := range socks {
		out[i] = s.File
	}
	return out
}

// Names returns the sockets' names in order, for LISTEN_FDNAMES
// (rendered by wire.ListenEnv).
func Names(socks []*Socket) []string {
	out := make([]string, len(socks))
	for i, s := range socks {
		out[i] = s.Name
	}
	return out
}
