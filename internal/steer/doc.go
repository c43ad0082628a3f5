// Package steer hands the TCP connections of baton's public listeners
// straight to a ready worker's own listening socket, inside the kernel,
// so that --proxy tcp costs nothing per connection or per byte: no copy,
// no extra socket, no master on the data path.
//
// It loads a BPF sk_lookup program (Linux 5.9 and later, as root: it
// needs CAP_BPF and CAP_NET_ADMIN) into the master's network namespace.
// For a new connection to one of the master's listening addresses, the
// program picks a worker round-robin from a SOCKMAP and assigns the
// connection to that worker's listener: the worker accepts it itself,
// with the client's own address. Whatever the program does not assign
// (no worker in the map, a worker listening on another address family, a
// connection the master must see) goes the usual way, to the master's
// listener and its userspace proxy, which also waits while no worker is
// ready. So steering can only ever take work off the proxy, never lose a
// connection.
//
// The pieces:
//
//   - [Steerer] (steer.go, program.go): the program, its maps and its
//     link to the namespace; a worker joins with Add once ready and
//     leaves with Remove before it drains. A worker's listener that closes
//     leaves the map by itself (the kernel unlinks a closed socket).
//   - [FindListener] and [Sockets.Held] (procnet.go, backlog.go): a
//     worker's listening socket taken from its process tree with
//     pidfd_getfd, and the connections it still holds (the socket fds
//     in /proc of its processes, from proc.Descendants; the sockets'
//     states and ports from sock_diag), for the drain and status; the
//     accept queues, for benching a worker that takes nothing.
package steer
