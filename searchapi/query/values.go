package query

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Values the enumerated qualifiers take, as events store them.
var (
	categories = []string{"asset", "license", "user", "auth", "system"}
	outcomes   = []string{"success", "failure"}
	methods    = []string{"web", "api", "import", "system"}
)

// normalize checks the value of a qualifier and returns it in the form it
// is stored in. Its errors are messages for the person who typed it.
func normalize(qualifier, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch qualifier {
	case Action:
		v = strings.ToLower(v)
		if !isName(v, ".*") || !strings.ContainsAny(v, ".*") {
			return "", fmt.Errorf("action: %q is not an action such as license.created, license.* or *.deleted", v)
		}
	case Category:
		return oneOf(qualifier, strings.ToLower(v), categories)
	case Outcome:
		return oneOf(qualifier, strings.ToLower(v), outcomes)
	case Method:
		return oneOf(qualifier, strings.ToLower(v), methods)
	case Resource:
		typ, id, hasID := strings.Cut(v, ":")
		typ, id = strings.ToLower(typ), strings.TrimSpace(id)
		if !isName(typ, "") || hasID && id == "" {
			return "", fmt.Errorf("resource: %q is not a resource type such as asset, or a type and an id such as asset:<id>", v)
		}
		if hasID {
			return typ + ":" + id, nil
		}
		return typ, nil
	case Field:
		v = strings.Join(strings.Fields(strings.ToLower(v)), "_")
		if !isName(v, "") {
			return "", fmt.Errorf("field: %q is not a field name such as status or asset_tag", v)
		}
	case Country:
		v = strings.ToUpper(v)
		if len(v) != 2 || !isUpperLetter(v[0]) || !isUpperLetter(v[1]) {
			return "", fmt.Errorf("country must be a two-letter code such as DE or US, not %q", v)
		}
	case IP:
		r, err := addressOrRange(v)
		if err != nil {
			return "", fmt.Errorf("ip: %q is not an address or CIDR range", v)
		}
		return r, nil
	}
	return v, nil
}

// isName reports whether s is a lower-case name such as asset_tag, made of
// letters, digits and underscores, beginning with a letter unless it may
// also hold the characters in extra (which may then also begin it).
func isName(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isUpperLetter(c byte) bool { return c >= 'A' && c <= 'Z' }

func oneOf(qualifier, v string, allowed []string) (string, error) {
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	last := len(allowed) - 1
	return "", fmt.Errorf("%s must be %s or %s, not %q", qualifier, strings.Join(allowed[:last], ", "), allowed[last], v)
}

// addressOrRange reads an IP address (10.0.0.1, 2001:db8::1), a CIDR range
// (10.0.0.0/8, 2001:db8::/32) or an IPv4 range written with a trailing
// wildcard (10.0.*), and returns the address or the range in CIDR form
// with its host bits cleared.
func addressOrRange(v string) (string, error) {
	if a, err := netip.ParseAddr(v); err == nil {
		if a.Zone() != "" {
			return "", errors.New("zoned address")
		}
		return a.String(), nil
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked().String(), nil
	}
	head, ok := strings.CutSuffix(v, ".*")
	if !ok {
		return "", errors.New("not an address")
	}
	octets := strings.Split(head, ".")
	if len(octets) > 3 {
		return "", errors.New("too many octets")
	}
	var a [4]byte
	for i, o := range octets {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 || n > 255 || len(o) > 3 || o != strconv.Itoa(n) {
			return "", errors.New("bad octet")
		}
		a[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(a), 8*len(octets)).String(), nil
}
