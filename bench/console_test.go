package main

import (
	"slices"
	"testing"
)

// TestConsolePageReading reads pages as the console writes them: the
// scripts and stylesheets of its own origin (and nothing else), and the
// cursor of the "Show older entries" link, whose point in time the bench
// closes.
func TestConsolePageReading(t *testing.T) {
	tests := []struct {
		name   string
		html   string
		assets []string
		cursor string
	}{
		{"layout", `<link rel="stylesheet" href="/static/console.css">
<script src="/static/vendor/htmx-4.0.1.min.js" defer></script>`, []string{"/static/console.css", "/static/vendor/htmx-4.0.1.min.js"}, ""},
		{"a page's own script and an image", `<script src="/static/analytics.js" defer></script><img src="/static/logo.png"><a href="/static/x.js">x</a>`, []string{"/static/analytics.js"}, ""},
		{"another origin", `<script src="https://cdn.example.com/x.js"></script>`, nil, ""},
		{"older entries", `<li class="more"><a href="/settings/activity-log?category=asset&amp;cursor=eyJwIjoiYWJjIn0.sig%3D&amp;q=macbook" hx-get="…">`, nil, "eyJwIjoiYWJjIn0.sig%3D"},
		{"cursor first", `<a href="/me/activity?cursor=abc.def">`, nil, "abc.def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var assets []string
			for _, m := range assetRef.FindAllStringSubmatch(tt.html, -1) {
				assets = append(assets, m[1])
			}
			if !slices.Equal(assets, tt.assets) {
				t.Errorf("assets %v, want %v", assets, tt.assets)
			}
			cursor := ""
			if m := moreCursor.FindStringSubmatch(tt.html); m != nil {
				cursor = m[1]
			}
			if cursor != tt.cursor {
				t.Errorf("cursor %q, want %q", cursor, tt.cursor)
			}
		})
	}
	if n := gzipSize(make([]byte, 100000)); n <= 0 || n > 1000 {
		t.Errorf("100 kB of zeros gzip to %d bytes", n)
	}
}
