package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	activity "github.com/fluxera/activity"
)

// Classes of addresses, as Classify names them.
const (
	ClassPublic        = "public"
	ClassLoopback      = "loopback"
	ClassPrivate       = "private"    // RFC 1918, fc00::/7, the old fec0::/10
	ClassLinkLocal     = "link_local" // 169.254.0.0/16, fe80::/10
	ClassMetadata      = "metadata"   // a cloud provider's instance metadata service
	ClassUnspecified   = "unspecified"
	ClassMulticast     = "multicast"
	ClassBroadcast     = "broadcast"
	ClassShared        = "shared" // 100.64.0.0/10, carrier-grade NAT
	ClassReserved      = "reserved"
	ClassDocumentation = "documentation"
	ClassBenchmarking  = "benchmarking"
	ClassInvalid       = "invalid" // the zero netip.Addr
)

// classWords names each class in a sentence for users.
var classWords = map[string]string{
	ClassPublic:        "a public",
	ClassLoopback:      "a loopback",
	ClassPrivate:       "a private",
	ClassLinkLocal:     "a link-local",
	ClassMetadata:      "a cloud metadata",
	ClassUnspecified:   "an unspecified",
	ClassMulticast:     "a multicast",
	ClassBroadcast:     "a broadcast",
	ClassShared:        "a shared (carrier-grade NAT)",
	ClassReserved:      "a reserved",
	ClassDocumentation: "a documentation",
	ClassBenchmarking:  "a benchmarking",
	ClassInvalid:       "an invalid",
}

// metadataAddrs are the instance metadata services of cloud providers.
// Most sit in link-local space, which is refused anyway; the others would
// otherwise pass as private, shared, reserved or even public.
var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, DigitalOcean, OpenStack, Hetzner …
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata and credentials
	netip.MustParseAddr("169.254.170.23"):  true, // AWS EKS Pod Identity agent
	netip.MustParseAddr("169.254.0.23"):    true, // Tencent Cloud
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"):     true, // Oracle Cloud (legacy)
	netip.MustParseAddr("168.63.129.16"):   true, // Azure WireServer
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"):    true, // AWS EKS Pod Identity agent over IPv6
	netip.MustParseAddr("fd20:ce::254"):    true, // Google Compute Engine over IPv6
	netip.MustParseAddr("fe80::a9fe:a9fe"): true, // OpenStack over IPv6
}

// classPrefix is a special-purpose block and its class.
type classPrefix struct {
	prefix netip.Prefix
	class  string
}

// special lists special-purpose blocks (RFC 6890 and the IANA registries),
// checked in order, so that a narrower block comes before the one holding
// it. IPv4 addresses embedded in IPv6 are unwrapped before; IPv6 outside
// 2000::/3 that is not listed (the discard block 100::/64, local-use NAT64
// 64:ff9b:1::/48, …) is reserved.
var special = func() []classPrefix {
	rows := []struct{ prefix, class string }{
		{"255.255.255.255/32", ClassBroadcast},
		{"0.0.0.0/32", ClassUnspecified},
		{"0.0.0.0/8", ClassReserved}, // "this network"
		{"127.0.0.0/8", ClassLoopback},
		{"10.0.0.0/8", ClassPrivate},
		{"172.16.0.0/12", ClassPrivate},
		{"192.168.0.0/16", ClassPrivate},
		{"169.254.0.0/16", ClassLinkLocal},
		{"100.64.0.0/10", ClassShared},
		{"192.0.2.0/24", ClassDocumentation},
		{"198.51.100.0/24", ClassDocumentation},
		{"203.0.113.0/24", ClassDocumentation},
		{"198.18.0.0/15", ClassBenchmarking},
		{"192.0.0.0/24", ClassReserved},   // IETF protocol assignments
		{"192.88.99.0/24", ClassReserved}, // the retired 6to4 relay anycast
		{"224.0.0.0/4", ClassMulticast},
		{"240.0.0.0/4", ClassReserved},

		{"::/128", ClassUnspecified},
		{"::1/128", ClassLoopback},
		{"ff00::/8", ClassMulticast},
		{"fe80::/10", ClassLinkLocal},
		{"fec0::/10", ClassPrivate}, // the retired site-local block
		{"fc00::/7", ClassPrivate},
		{"2001:db8::/32", ClassDocumentation},
		{"3fff::/20", ClassDocumentation},
		{"2001:2::/48", ClassBenchmarking},
		{"2001::/23", ClassReserved}, // IETF protocol assignments, Teredo, ORCHID
	}
	out := make([]classPrefix, len(rows))
	for i, r := range rows {
		out[i] = classPrefix{netip.MustParsePrefix(r.prefix), r.class}
	}
	return out
}()

// Blocks that embed an IPv4 address, which is classified in their stead.
var (
	nat64Prefix   = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052 well-known NAT64
	siitPrefix    = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated (RFC 2765)
	compatPrefix  = netip.MustParsePrefix("::/96")           // IPv4-compatible, deprecated
	sixToFour     = netip.MustParsePrefix("2002::/16")       // 6to4, the IPv4 address in bits 16–47
	globalUnicast = netip.MustParsePrefix("2000::/3")        // the only IPv6 block assigned for unicast
)

// Classify returns the class of addr: ClassPublic for an address on the
// internet, or the special-purpose class it belongs to. An IPv4 address
// carried in IPv6 (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64
// and 6to4) is classified as the IPv4 address; zones are ignored. IPv6
// addresses outside 2000::/3 that no other class covers are
// ClassReserved.
func Classify(addr netip.Addr) string {
	if !addr.IsValid() {
		return ClassInvalid
	}
	addr = unwrap(addr)
	if metadataAddrs[addr] {
		return ClassMetadata
	}
	for _, s := range special {
		if s.prefix.Contains(addr) {
			return s.class
		}
	}
	if addr.Is6() && !globalUnicast.Contains(addr) {
		return ClassReserved
	}
	return ClassPublic
}

// unwrap returns the IPv4 address an IPv6 address carries, or addr.
func unwrap(addr netip.Addr) netip.Addr {
	addr = addr.WithZone("")
	if !addr.Is6() {
		return addr
	}
	if addr.Is4In6() {
		return addr.Unmap()
	}
	b := addr.As16()
	switch {
	case nat64Prefix.Contains(addr), siitPrefix.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16]))
	case compatPrefix.Contains(addr) && addr != netip.IPv6Unspecified() && addr != netip.IPv6Loopback():
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return addr
}

// DefaultHTTPTimeout bounds one webhook or chat request, from dialling to
// the end of the response.
const DefaultHTTPTimeout = 10 * time.Second

// AddressError is an address notifications may not reach.
type AddressError struct {
	Addr  netip.Addr
	Class string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("%s is %s address, which notifications may not reach", e.Addr, classWords[e.Class])
}

// Policy says which addresses notifications may reach. The zero Policy
// allows only public addresses, which is what production runs with.
type Policy struct {
	// AllowLoopback lets notifications reach 127.0.0.0/8 and ::1, for
	// development and tests.
	AllowLoopback bool
	// AllowPrivate lets notifications reach private networks (RFC 1918,
	// fc00::/7), for installations whose receivers live there.
	AllowPrivate bool
	// LookupNetIP resolves host names for CheckURL;
	// net.DefaultResolver.LookupNetIP when nil.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Allowed returns nil when notifications may reach addr: a public address,
// a loopback one under AllowLoopback, a private one under AllowPrivate.
// Cloud metadata and link-local addresses are never allowed. Otherwise it
// returns an *AddressError.
func (p Policy) Allowed(addr netip.Addr) error {
	switch c := Classify(addr); {
	case c == ClassPublic,
		c == ClassLoopback && p.AllowLoopback,
		c == ClassPrivate && p.AllowPrivate:
		return nil
	default:
		return &AddressError{Addr: addr, Class: c}
	}
}

// CheckURL checks a webhook or chat URL when it is saved: an absolute
// http or https URL without a user name or password, whose host is an
// allowed address or resolves only to allowed addresses. Its errors are
// *activity.Error with the field "url" and a message for the user:
// EINVALID for a bad or refused URL or a host that does not resolve,
// EUNAVAILABLE when the host could not be resolved for now. The same
// check is made again on every connection, so a host that later resolves
// elsewhere is still refused.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return activity.Errorf(activity.EINVALID, "url", "url must be an absolute http or https URL")
	}
	if u.User != nil {
		return activity.Errorf(activity.EINVALID, "url", "url must not carry a user name or password")
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		if err := p.Allowed(addr); err != nil {
			return activity.Errorf(activity.EINVALID, "url", "url points to %s address (%s), which notifications may not reach", classWords[Classify(addr)], addr)
		}
		return nil
	}
	lookup := p.LookupNetIP
	if lookup == nil {
		lookup = net.DefaultResolver.LookupNetIP
	}
	addrs, err := lookup(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return activity.Errorf(activity.EINVALID, "url", "url host %q does not resolve", host)
		}
		return activity.Errorf(activity.EUNAVAILABLE, "url", "url host %q could not be resolved just now; try again", host)
	}
	if len(addrs) == 0 {
		return activity.Errorf(activity.EINVALID, "url", "url host %q does not resolve", host)
	}
	for _, addr := range addrs {
		if err := p.Allowed(addr); err != nil {
			return activity.Errorf(activity.EINVALID, "url", "url resolves to %s address (%s), which notifications may not reach", classWords[Classify(addr)], addr.WithZone(""))
		}
	}
	return nil
}

// Dialer returns a dialer that refuses, before connecting, any address
// the policy does not allow. The check runs on the address actually
// dialled, after name resolution, so a host that resolves to a public
// address when saved and to a private one later is still refused. The
// dial fails with an error wrapping *AddressError.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   DefaultHTTPTimeout,
		KeepAlive: 30 * time.Second,
		Control:   p.control,
	}
}

// DialContext dials address with the policy's Dialer.
func (p Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return p.Dialer().DialContext(ctx, network, address)
}

// control is the Dialer's hook between creating a socket and connecting
// it; address is the resolved "ip:port".
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("check %s address %q: %w", network, address, err)
	}
	return p.Allowed(ap.Addr())
}

// HTTPClient returns a client for webhook and chat requests: every
// connection goes through the policy's Dialer, no proxy is used (a proxy
// would connect on its behalf, past the check), redirects are returned as
// they are rather than followed, and each request ends after timeout
// (DefaultHTTPTimeout when zero or less).
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	dialer := p.Dialer()
	dialer.Timeout = timeout
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
