package http

import (
	"io"
	"net"
	"sync"
	"time"
)

// Lingering bounds what a closing connection still reads from its client.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 8 << 20
)

// lingeringListener hands out connections that close gently. fasthttp
// answers a request it refuses while reading — a header over the read
// buffer, a body over the limit — and closes the connection at once, with
// the rest of the request unread; the kernel then resets the connection,
// and a client still sending, or not yet reading, loses the answer. A
// lingering connection, when closed, first ends its sending side, so the
// answer goes out whole, and then reads and drops what the client still
// sends, for at most lingerTime and lingerBytes, before it closes: the
// refusal reaches the client as an answer.
type lingeringListener struct{ net.Listener }

func (l lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingeringConn{TCPConn: tc}, nil
	}
	return c, nil
}

type lingeringConn struct {
	*net.TCPConn
	once sync.Once
}

// Close ends the sending side at once and the connection after lingering,
// in the background. It always returns nil.
func (c *lingeringConn) Close() error {
	c.once.Do(func() {
		if err := c.CloseWrite(); err != nil {
			c.TCPConn.Close()
			return
		}
		go func() {
			c.SetReadDeadline(time.Now().Add(lingerTime))
			io.Copy(io.Discard, io.LimitReader(c.TCPConn, lingerBytes))
			c.TCPConn.Close()
		}()
	})
	return nil
}
