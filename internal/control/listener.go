package control

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// Socket is a master's control socket and its claim on the name: a unix
// listener at Path (mode 0600) and an exclusive lock on Path()+".lock",
// held until Close. It is a net.Listener; whoever closes it (Serve does,
// when its context ends) gives the name up.
type Socket struct {
	net.Listener // a *swapListener, so that Restore can put a new one in
	swap         *swapListener
	path         string
	mu           sync.Mutex // guards file
	file         fileID     // the socket file this master bound
	lock         *nameLock
	once         sync.Once
	err          error
}

// newSocket wraps a listening control socket bound at path.
func newSocket(ln net.Listener, path string, id fileID, lock *nameLock) *Socket {
	sw := &swapListener{cur: ln}
	return &Socket{Listener: sw, swap: sw, path: path, file: id, lock: lock}
}

// Listen takes the name and creates the control socket at path. It first
// locks PATH.lock, so that of two masters started at once with one name
// exactly one goes on; then it replaces a stale socket (one nothing answers
// on) and nothing else: a live socket, a regular file, a directory, a
// symlink or anything else at path is an error, left as it is.
func Listen(path string) (*Socket, error) {
	if len(path) > config.MaxUnixPath {
		return nil, fmt.Errorf("control socket %s: unix socket path is %d bytes, the limit is %d", path, len(path), config.MaxUnixPath)
	}
	lock, err := lockName(path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	s, err := listenLocked(path)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	s.lock = lock
	return s, nil
}

// listenLocked clears the way and binds, with the name's lock held.
func listenLocked(path string) (*Socket, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, id, err := bindPrivate(path)
	if err != nil {
		return nil, err
	}
	return newSocket(ln, path, id, nil), nil
}

// removeStale removes a dead socket at path, and refuses anything else.
func removeStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode().Type() != fs.ModeSocket {
		return errors.New("exists and is not a socket: baton only replaces a stale socket")
	}
	if alive(path) {
		return errNameTaken // a master that takes no lock
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// bindPrivate binds a unix socket at path, makes it 0600 before it
// listens (so no one connects meanwhile, and no process-wide umask is
// changed), and returns it with the identity of its file.
func bindPrivate(path string) (net.Listener, fileID, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fileID{}, fmt.Errorf("create socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, fileID{}, fmt.Errorf("bind: %w", err)
	}
	id, _ := lstatID(path)
	ln, err := listenPrivate(path, f)
	if err != nil {
		_ = os.Remove(path)
		return nil, fileID{}, err
	}
	return ln, id, nil
}

func listenPrivate(path string, f *os.File) (net.Listener, error) {
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("chmod: %w", err)
	}
	if err := unix.Listen(int(f.Fd()), 128); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// Path is where the socket listens.
func (s *Socket) Path() string { return s.path }

// Close stops listening, removes the socket file if it is still the one
// this master bound (never a socket another master put there since),
// removes the lock file and gives up the name. It may be called more than
// once; later calls return the first result.
func (s *Socket) Close() error {
	s.once.Do(func() {
		s.err = s.Listener.Close()
		s.mu.Lock()
		mine := s.file
		s.mu.Unlock()
		if id, ok := lstatID(s.path); ok && id == mine {
			_ = os.Remove(s.path)
		}
		s.lock.release()
	})
	return s.err
}

// peerListener drops connections from users other than root and the
// master's own.
type peerListener struct {
	net.Listener
	log *slog.Logger
}

func (l peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && (uid == 0 || uid == os.Getuid()) {
			return c, nil
		}
		l.log.Warn("control connection refused", "peer_uid", uid, "err", err)
		c.Close()
	}
}

func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, errors.New("not a unix connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if credErr != nil {
		return -1, credErr
	}
	return int(cred.Uid), nil
}

// Files returns duplicates of the listening descriptor and of the name's
// lock, for passing to a new master in a hand-over: the lock is shared by
// both masters (one open file description) and so stays held as long as
// either runs.
//
// The listener is duplicated by hand, not with UnixListener.File: that
// returns a file whose Fd (which os/exec calls to pass it) switches the
// shared open file description to blocking mode, and this master's own
// accept could then block in the kernel where closing the listener
// cannot interrupt it (a hang seen in a loaded test run).
func (s *Socket) Files() (listener, lock *os.File, err error) {
	sc, ok := s.swap.current().(syscall.Conn)
	if !ok {
		return nil, nil, fmt.Errorf("control socket %s: not a socket listener", s.path)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("control socket %s: %w", s.path, err)
	}
	var dup int
	var dupErr error
	if err := raw.Control(func(fd uintptr) { dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, nil, fmt.Errorf("control socket %s: %w", s.path, err)
	}
	if dupErr != nil {
		return nil, nil, fmt.Errorf("control socket %s: duplicate: %w", s.path, dupErr)
	}
	return os.NewFile(uintptr(dup), s.path), s.lock.f, nil
}

// Adopt takes over the control socket at path and its name lock from the
// descriptors an old master passed down.
func Adopt(path string, listener, lock *os.File) (*Socket, error) {
	ln, err := net.FileListener(listener)
	listener.Close()
	if err != nil {
		return nil, fmt.Errorf("control socket %s: take over: %w", path, err)
	}
	id, _ := lstatID(path)
	held, _ := fstatID(lock)
	return newSocket(ln, path, id, &nameLock{path: LockPath(path), f: lock, id: held}), nil
}

// Release stops this master listening and closes its hold on the name
// without removing anything: after a hand-over the socket file and the
// lock belong to the new master (the lock stays held through its copy).
func (s *Socket) Release() error {
	s.once.Do(func() {
		s.err = s.Listener.Close()
		_ = s.lock.f.Close()
	})
	return s.err
}
