//go:build linux || darwin

package httpapi

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// CancelWhenGone calls cancel as soon as the client at the other end of
// conn closes or resets the connection, until stop is called. It peeks at
// the connection without consuming anything, through the runtime's network
// poller, so no byte of a later request is lost. stop returns once the
// watch has ended, and must be called before anything reads conn again. A
// byte the client sends meanwhile (a pipelined request) ends the watch
// without calling cancel. A connection that does not expose its file
// descriptor (a TLS one, say) is not watched.
func CancelWhenGone(conn net.Conn, cancel func()) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
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
	return func() {
		// A deadline in the past wakes the watch; then the connection is
		// left as it was found, with no deadline.
		conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		conn.SetReadDeadline(time.Time{})
	}
}
