package httpapi

import (
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
)

// StreamStall is how long a streamed answer (an export, a download) waits
// for its client to take in what it was sent before it gives up on the
// client.
const StreamStall = 2 * time.Minute

// WriteWindow keeps a long answer going past the server's WriteTimeout:
// fasthttp sets one write deadline for a whole response, which would cut
// off any download that takes longer, however steadily it goes. Each Give
// moves the deadline to Stall from now, so that only a client that stops
// taking in what it is sent, for Stall, is given up on. The zero value,
// without a connection, does nothing.
type WriteWindow struct {
	conn  net.Conn
	stall time.Duration
}

// NewWriteWindow returns the write window of c's connection; a stall of
// zero or less is StreamStall.
func NewWriteWindow(c *fiber.Ctx, stall time.Duration) WriteWindow {
	if stall <= 0 {
		stall = StreamStall
	}
	return WriteWindow{conn: c.Context().Conn(), stall: stall}
}

// Give gives the client Stall from now to take in what it is sent.
func (w WriteWindow) Give() {
	if w.conn != nil {
		w.conn.SetWriteDeadline(time.Now().Add(w.stall))
	}
}

// Abort closes the connection, so that the client sees its answer cut off
// rather than ended.
func (w WriteWindow) Abort() {
	if w.conn != nil {
		w.conn.Close()
	}
}

// Body returns r read as a streamed answer's body: each read that brings
// something gives the client Stall to take it in. It keeps r's Close, if
// it has one, for the server to call once the answer is written.
func (w WriteWindow) Body(r io.Reader) io.Reader {
	b := windowBody{r: r, w: w}
	if c, ok := r.(io.Closer); ok {
		return windowCloser{b, c}
	}
	return b
}

type windowBody struct {
	r io.Reader
	w WriteWindow
}

func (b windowBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.w.Give()
	}
	return n, err
}

type windowCloser struct {
	windowBody
	io.Closer
}
