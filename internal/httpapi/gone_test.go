//go:build linux || darwin

package httpapi

import (
	"net"
	"testing"
	"time"
)

// loopbackPair returns both ends of a TCP connection on the loopback.
func loopbackPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("no connection accepted")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// within fails the test unless f returns within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
	}
}

// TestAWatchStartedBesideAnotherWaitsForIt starts a second watch of a
// connection while the first still runs, as a streamed answer's writer
// does beside the request's deadline: the first stops at once, and the
// second then sees the client go.
func TestAWatchStartedBesideAnotherWaitsForIt(t *testing.T) {
	for range 50 {
		server, client := loopbackPair(t)
		stopFirst := CancelWhenGone(server, func() { t.Error("the first watch saw the client go, which is still there") })
		gone := make(chan struct{})
		var stopSecond func()
		started := make(chan struct{})
		go func() {
			stopSecond = CancelWhenGone(server, func() { close(gone) })
			close(started)
		}()
		within(t, 5*time.Second, "stopping the first watch", stopFirst)
		within(t, 5*time.Second, "starting the second watch", func() { <-started })
		client.Close()
		within(t, 5*time.Second, "the second watch seeing the client go", func() { <-gone })
		within(t, 5*time.Second, "stopping the second watch", stopSecond)
	}
}

// TestAStoppedWatchLeavesTheConnectionAsFound checks that a watch
// stopped twice gives back its hold once, and that the connection is read
// as before once no watch runs.
func TestAStoppedWatchLeavesTheConnectionAsFound(t *testing.T) {
	server, client := loopbackPair(t)
	stop := CancelWhenGone(server, func() {})
	stop()
	stop()
	watches.Lock()
	left := len(watches.m)
	watches.Unlock()
	if left != 0 {
		t.Fatalf("%d connections still held after every watch stopped", left)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1)
	if n, err := server.Read(b); n != 1 || b[0] != 'x' {
		t.Fatalf("read %d bytes %q (%v) after the watch; want the byte sent", n, b[:n], err)
	}
}
