//go:build linux || darwin

package httpapi

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// watches holds, for each connection being watched, the lock that lets
// one watch of it run at a time (see CancelWhenGone).
var watches = struct {
	sync.Mutex
	m map[net.Conn]*connWatch
}{m: map[net.Conn]*connWatch{}}

// connWatch is the lock of one watched connection, and how many watches
// hold or wait for it.
type connWatch struct {
	sync.Mutex
	users int
}

// holdWatch waits until no other watch of conn runs, and returns the lock
// that releaseWatch gives back.
func holdWatch(conn net.Conn) *connWatch {
	watches.Lock()
	w := watches.m[conn]
	if w == nil {
		w = &connWatch{}
		watches.m[conn] = w
	}
	w.users++
	watches.Unlock()
	w.Lock()
	return w
}

// releaseWatch lets the next watch of conn start.
func releaseWatch(conn net.Conn, w *connWatch) {
	w.Unlock()
	watches.Lock()
	if w.users--; w.users == 0 {
		delete(watches.m, conn)
	}
	watches.Unlock()
}

// CancelWhenGone calls cancel as soon as the client at the other end of
// conn closes or resets the connection, until stop is called. It peeks at
// the connection without consuming anything, through the runtime's network
// poller, so no byte of a later request is lost. stop returns once the
// watch has ended, and must be called before anything reads conn again. A
// byte the client sends meanwhile (a pipelined request) ends the watch
// without calling cancel. A connection that does not expose its file
// descriptor (a TLS one, say) is not watched.
//
// One watch of a connection runs at a time: a second one waits in
// CancelWhenGone until the first is stopped. Each watch clears the
// connection's read deadline as it starts, and stop wakes the watch by a
// deadline in the past: a second watch starting beside the first (a
// streamed answer whose writer starts before the request's handlers have
// returned) could clear the deadline meant to wake the first, which would
// then wait for ever.
func CancelWhenGone(conn net.Conn, cancel func()) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	held := holdWatch(conn)
	// The request is read: no deadline of the server's may cut the watch
	// short. The server sets its own before it reads the next request.
	conn.SetReadDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		gone := false
		err := raw.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				return false // nothing yet: wait until the connection is readable
			}
			gone = err != nil || n == 0
			return true
		})
		if err == nil && gone {
			cancel()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			// A deadline in the past wakes the watch; then the connection
			// is left as it was found, with no deadline.
			conn.SetReadDeadline(time.Unix(1, 0))
			<-done
			conn.SetReadDeadline(time.Time{})
			releaseWatch(conn, held)
		})
	}
}
