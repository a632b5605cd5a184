package postgres

import "testing"

func TestThrottleNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":   "2001:db8:1:2::/64",
		"::ffff:203.0.113.9":   "::ffff:203.0.113.9",
		"":                     "",
	} {
		if got := throttleNetwork(ip); got != want {
			t.Errorf("throttleNetwork(%q) = %q, want %q", ip, got, want)
		}
	}
}
