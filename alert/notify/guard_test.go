package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"8.8.8.8", ClassPublic},
		{"1.1.1.1", ClassPublic},
		{"2606:4700:4700::1111", ClassPublic},
		{"::ffff:8.8.8.8", ClassPublic},
		{"64:ff9b::808:808", ClassPublic}, // NAT64 of 8.8.8.8

		{"127.0.0.1", ClassLoopback},
		{"127.255.255.254", ClassLoopback},
		{"::1", ClassLoopback},
		{"::ffff:127.0.0.1", ClassLoopback},

		{"10.0.0.1", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"192.168.1.1", ClassPrivate},
		{"fc00::1", ClassPrivate},
		{"fd12:3456::1", ClassPrivate},
		{"fec0::1", ClassPrivate},
		{"::ffff:10.0.0.5", ClassPrivate},      // IPv4-mapped
		{"::ffff:192.168.1.1", ClassPrivate},   // IPv4-mapped
		{"::10.0.0.5", ClassPrivate},           // IPv4-compatible
		{"::ffff:0:10.0.0.5", ClassPrivate},    // IPv4-translated
		{"64:ff9b::a00:5", ClassPrivate},       // NAT64 of 10.0.0.5
		{"64:ff9b::192.168.1.1", ClassPrivate}, // NAT64 of 192.168.1.1
		{"2002:c0a8:101::1", ClassPrivate},     // 6to4 of 192.168.1.1
		{"172.15.255.255", ClassPublic},        // just below 172.16/12
		{"172.32.0.0", ClassPublic},            // just above it

		{"169.254.1.1", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"fe80::1%eth0", ClassLinkLocal},

		{"169.254.169.254", ClassMetadata},
		{"::ffff:169.254.169.254", ClassMetadata},
		{"64:ff9b::a9fe:a9fe", ClassMetadata},
		{"169.254.170.2", ClassMetadata},
		{"fd00:ec2::254", ClassMetadata},
		{"100.100.100.200", ClassMetadata},
		{"192.0.0.192", ClassMetadata},
		{"168.63.129.16", ClassMetadata},

		{"0.0.0.0", ClassUnspecified},
		{"::", ClassUnspecified},
		{"224.0.0.1", ClassMulticast},
		{"239.255.255.250", ClassMulticast},
		{"ff02::1", ClassMulticast},
		{"255.255.255.255", ClassBroadcast},
		{"100.64.0.1", ClassShared},
		{"100.127.255.255", ClassShared},

		{"0.1.2.3", ClassReserved},
		{"192.0.0.8", ClassReserved},
		{"240.0.0.1", ClassReserved},
		{"192.88.99.1", ClassReserved},
		{"2001::1", ClassReserved}, // Teredo
		{"100::1", ClassReserved},  // discard only
		{"4000::1", ClassReserved}, // outside 2000::/3
		{"::2", ClassReserved},     // IPv4-compatible 0.0.0.2

		{"192.0.2.1", ClassDocumentation},
		{"198.51.100.7", ClassDocumentation},
		{"203.0.113.9", ClassDocumentation},
		{"2001:db8::1", ClassDocumentation},
		{"3fff::1", ClassDocumentation},
		{"198.18.0.1", ClassBenchmarking},
		{"198.19.255.255", ClassBenchmarking},
		{"2001:2::1", ClassBenchmarking},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Fatalf("Classify(%s) = %s, want %s", tt.addr, got, tt.want)
			}
		})
	}
	if got := Classify(netip.Addr{}); got != ClassInvalid {
		t.Errorf("Classify(zero) = %s, want %s", got, ClassInvalid)
	}
}

func TestPolicyAllowed(t *testing.T) {
	tests := []struct {
		addr                            string
		strict, loopback, private, both bool
	}{
		{"8.8.8.8", true, true, true, true},
		{"127.0.0.1", false, true, false, true},
		{"::1", false, true, false, true},
		{"10.0.0.1", false, false, true, true},
		{"::ffff:10.0.0.1", false, false, true, true},
		{"fd12::1", false, false, true, true},
		{"169.254.169.254", false, false, false, false},
		{"fd00:ec2::254", false, false, false, false},
		{"169.254.1.1", false, false, false, false},
		{"fe80::1", false, false, false, false},
		{"100.64.0.1", false, false, false, false},
		{"0.0.0.0", false, false, false, false},
		{"224.0.0.1", false, false, false, false},
		{"192.0.2.1", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			addr := netip.MustParseAddr(tt.addr)
			for _, c := range []struct {
				p    Policy
				want bool
			}{
				{Policy{}, tt.strict},
				{Policy{AllowLoopback: true}, tt.loopback},
				{Policy{AllowPrivate: true}, tt.private},
				{Policy{AllowLoopback: true, AllowPrivate: true}, tt.both},
			} {
				err := c.p.Allowed(addr)
				if (err == nil) != c.want {
					t.Errorf("%+v.Allowed(%s) = %v, want allowed %v", c.p, tt.addr, err, c.want)
				}
				var ae *AddressError
				if err != nil && (!errors.As(err, &ae) || ae.Class != Classify(addr)) {
					t.Errorf("error %v is not an *AddressError of class %s", err, Classify(addr))
				}
			}
		})
	}
}

// TestDialerRefusesBeforeConnecting calls the dialer's Control hook, which
// net.Dialer runs on the resolved address after creating the socket and
// before connecting it, with addresses the test must never send to.
func TestDialerRefusesBeforeConnecting(t *testing.T) {
	tests := []struct {
		p       Policy
		address string
		class   string
	}{
		{Policy{}, "10.0.0.1:443", ClassPrivate},
		{Policy{}, "169.254.169.254:80", ClassMetadata},
		{Policy{}, "192.168.1.1:8080", ClassPrivate},
		{Policy{}, "[::ffff:10.0.0.1]:443", ClassPrivate},
		{Policy{}, "[fd00:ec2::254]:80", ClassMetadata},
		{Policy{}, "127.0.0.1:80", ClassLoopback},
		{Policy{AllowPrivate: true}, "169.254.169.254:80", ClassMetadata},
		{Policy{AllowPrivate: true, AllowLoopback: true}, "[fe80::1%eth0]:80", ClassLinkLocal},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			control := tt.p.Dialer().Control
			if control == nil {
				t.Fatal("the dialer has no Control hook")
			}
			err := control("tcp", tt.address, nil)
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Class != tt.class {
				t.Fatalf("Control(%s) = %v, want an *AddressError of class %s", tt.address, err, tt.class)
			}
		})
	}
	if err := (Policy{AllowPrivate: true}).Dialer().Control("tcp4", "10.0.0.1:443", nil); err != nil {
		t.Errorf("AllowPrivate: Control(10.0.0.1) = %v", err)
	}
	if err := (Policy{}).Dialer().Control("tcp4", "not-an-address", nil); err == nil {
		t.Error("Control accepted an address it cannot parse")
	}
}

func TestDialLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx := context.Background()

	_, err = Policy{}.DialContext(ctx, "tcp", ln.Addr().String())
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Class != ClassLoopback {
		t.Fatalf("default policy dialled loopback: %v", err)
	}
	conn, err := Policy{AllowLoopback: true}.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("AllowLoopback: %v", err)
	}
	conn.Close()
}

func TestHTTPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		if r.URL.Path == "/elsewhere" {
			t.Error("the redirect was followed")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	t.Run("loopback refused by default", func(t *testing.T) {
		_, err := Policy{}.HTTPClient(0).Get(srv.URL)
		var ae *AddressError
		if !errors.As(err, &ae) {
			t.Fatalf("Get = %v, want an *AddressError", err)
		}
	})
	t.Run("loopback allowed", func(t *testing.T) {
		resp, err := Policy{AllowLoopback: true}.HTTPClient(0).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		resp, err := Policy{AllowLoopback: true}.HTTPClient(0).Get(srv.URL + "/moved")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("status %d, want 302", resp.StatusCode)
		}
	})
	t.Run("no proxy", func(t *testing.T) {
		tr := Policy{}.HTTPClient(0).Transport.(*http.Transport)
		if tr.Proxy != nil {
			t.Fatal("the transport uses a proxy")
		}
	})
}

// fakeResolver answers from a table and fails the test for other hosts.
func fakeResolver(t *testing.T, table map[string][]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(_ context.Context, network, host string) ([]netip.Addr, error) {
		if network != "ip" {
			t.Errorf("lookup network %q, want ip", network)
		}
		addrs, ok := table[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		if addrs == nil {
			return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
		}
		out := make([]netip.Addr, len(addrs))
		for i, a := range addrs {
			out[i] = netip.MustParseAddr(a)
		}
		return out, nil
	}
}

func TestCheckURL(t *testing.T) {
	table := map[string][]string{
		"hooks.example.com":    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"internal.example.com": {"10.0.0.5"},
		"mixed.example.com":    {"93.184.216.34", "192.168.1.1"},
		"meta.example.com":     {"169.254.169.254"},
		"mapped.example.com":   {"::ffff:10.0.0.5"},
		"localhost":            {"127.0.0.1", "::1"},
		"flaky.example.com":    nil,
	}
	tests := []struct {
		name    string
		p       Policy
		url     string
		code    string
		message string
	}{
		{name: "public host", url: "https://hooks.example.com/alerts"},
		{name: "public literal", url: "https://93.184.216.34:8443/alerts"},
		{name: "private host", url: "https://internal.example.com/x", code: activity.EINVALID,
			message: "url resolves to a private address (10.0.0.5), which notifications may not reach"},
		{name: "one of several private", url: "https://mixed.example.com/x", code: activity.EINVALID, message: "(192.168.1.1)"},
		{name: "metadata host", p: Policy{AllowPrivate: true}, url: "http://meta.example.com/latest", code: activity.EINVALID, message: "cloud metadata address (169.254.169.254)"},
		{name: "mapped private", url: "http://mapped.example.com/", code: activity.EINVALID, message: "private address"},
		{name: "private allowed", p: Policy{AllowPrivate: true}, url: "https://internal.example.com/x"},
		{name: "private literal", url: "http://10.0.0.5/x", code: activity.EINVALID, message: "url points to a private address (10.0.0.5)"},
		{name: "metadata literal", url: "http://169.254.169.254/latest/meta-data/", code: activity.EINVALID, message: "cloud metadata address"},
		{name: "mapped literal", url: "http://[::ffff:169.254.169.254]/", code: activity.EINVALID, message: "cloud metadata address"},
		{name: "localhost refused", url: "http://localhost:8080/", code: activity.EINVALID, message: "loopback address"},
		{name: "localhost allowed", p: Policy{AllowLoopback: true}, url: "http://localhost:8080/"},
		{name: "ftp", url: "ftp://hooks.example.com/", code: activity.EINVALID, message: "http or https"},
		{name: "relative", url: "/alerts", code: activity.EINVALID, message: "http or https"},
		{name: "userinfo", url: "https://user:pw@hooks.example.com/", code: activity.EINVALID, message: "user name or password"},
		{name: "unknown host", url: "https://nowhere.example.com/", code: activity.EINVALID, message: "does not resolve"},
		{name: "resolver down", url: "https://flaky.example.com/", code: activity.EUNAVAILABLE, message: "try again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.LookupNetIP = fakeResolver(t, table)
			err := tt.p.CheckURL(context.Background(), tt.url)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("CheckURL(%s) = %v", tt.url, err)
				}
				return
			}
			if activity.ErrorCode(err) != tt.code || activity.ErrorField(err) != "url" {
				t.Fatalf("CheckURL(%s) = %v, want code %s on field url", tt.url, err, tt.code)
			}
			if msg := activity.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Fatalf("message %q does not contain %q", msg, tt.message)
			}
		})
	}
}
