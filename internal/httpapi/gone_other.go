//go:build !linux && !darwin

package httpapi

import "net"

// CancelWhenGone does not watch connections on this system: requests end
// by their deadline alone.
func CancelWhenGone(conn net.Conn, cancel func()) (stop func()) {
	return func() {}
}
