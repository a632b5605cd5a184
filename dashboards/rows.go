package dashboards

import (
	"html/template"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// rowBytes is about what one entry of a listing takes, to size the rows'
// buffer at once.
const rowBytes = 640

// Rows are the listing's entries as the items of its list, newest first,
// and the link to the next page: what the "rows" fragment holds, in the
// page and alone for htmx. They are written here rather than by the
// template's actions, which for a page of fifty entries cost the page
// more CPU than its search (see docs/performance.md, "Console"); each
// value is escaped as html/template escapes it in its place (text,
// attribute or URL), so that the HTML is the same byte for byte.
func (v *listView) Rows() template.HTML {
	b := make([]byte, 0, len(v.Entries)*rowBytes+256)
	for i := range v.Entries {
		e := &v.Entries[i]
		failed := e.Outcome == activity.OutcomeFailure
		b = append(b, "\n<li class=\"entry"...)
		if failed {
			b = append(b, " failed"...)
		}
		b = append(b, "\">\n  <div class=\"line\">\n    "...)
		b = v.appendTime(b, e.OccurredAt)
		b = append(b, "\n    <a class=\"summary\" href=\"/activity/"...)
		b = appendURL(b, e.ID)
		b = append(b, "\" hx-get=\"/activity/"...)
		b = appendHTML(b, e.ID)
		b = append(b, "\" hx-target=\"#d-"...)
		b = appendHTML(b, e.ID)
		b = append(b, "\" hx-swap=\"innerHTML\">"...)
		b = appendHTML(b, e.Summary)
		b = append(b, "</a>\n    <code class=\"action\">"...)
		b = appendHTML(b, e.Action)
		b = append(b, "</code>"...)
		if failed {
			b = append(b, " <strong class=\"badge bad\">failed</strong>"...)
		}
		if r := e.Restored; r != nil {
			b = append(b, " <span class=\"badge restored\">restored from the archive until "...)
			b = v.appendTime(b, r.ExpiresAt)
			b = append(b, "</span>"...)
		}
		b = append(b, "\n  </div>\n  <div id=\"d-"...)
		b = appendHTML(b, e.ID)
		b = append(b, "\" class=\"slot\"></div>\n</li>"...)
	}
	if len(v.Entries) == 0 {
		b = append(b, "\n<li class=\"empty\">No activity matches.</li>"...)
	}
	b = append(b, '\n')
	if v.More != "" {
		b = append(b, "<li class=\"more\"><a href=\""...)
		if isSafeURL(v.More) {
			b = appendURL(b, v.More)
		} else {
			b = append(b, "#ZgotmplZ"...)
		}
		b = append(b, "\" hx-get=\""...)
		b = appendHTML(b, v.More)
		b = append(b, "\" hx-target=\"closest li\" hx-swap=\"outerHTML\">Show older entries</a></li>"...)
	}
	b = append(b, '\n')
	return template.HTML(b)
}

// appendTime appends t as a time element: the instant in UTC in its
// attributes, and the time in the workspace's zone as its text (see
// view.UTC and view.Local).
func (v view) appendTime(b []byte, t time.Time) []byte {
	var scratch [64]byte
	utc := t.UTC().AppendFormat(scratch[:0], utcLayout)
	b = append(b, "<time datetime=\""...)
	b = appendHTML(b, string(utc))
	b = append(b, "\" title=\""...)
	b = appendHTML(b, string(utc))
	b = append(b, " (UTC)\">"...)
	b = appendHTML(b, string(t.In(v.Zone).AppendFormat(scratch[:0], localLayout)))
	return append(b, "</time>"...)
}

// htmlEscapes are html/template's replacements in text and quoted
// attribute values, by byte; bytes without one are written as they are.
var htmlEscapes = [...]string{
	0:    "\uFFFD",
	'"':  "&#34;",
	'&':  "&amp;",
	'\'': "&#39;",
	'+':  "&#43;",
	'<':  "&lt;",
	'>':  "&gt;",
}

// appendHTML appends s escaped for HTML text or a quoted attribute value,
// as html/template escapes it there.
func appendHTML(b []byte, s string) []byte {
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if int(c) < len(htmlEscapes) && htmlEscapes[c] != "" {
			b = append(b, s[written:i]...)
			b = append(b, htmlEscapes[c]...)
			written = i + 1
		}
	}
	return append(b, s[written:]...)
}

// appendURL appends s, part of a URL in a quoted attribute value,
// normalized and escaped as html/template does there: bytes that a URL
// may not hold as they are percent-encoded, valid escapes and reserved
// characters kept, then the HTML's own escapes.
func appendURL(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b = append(b, c)
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '+':
			b = append(b, "&#43;"...)
		case c == '!', c == '#', c == '$', c == '*', c == ',', c == '/', c == ':', c == ';', c == '=', c == '?', c == '@', c == '[', c == ']',
			c == '-', c == '.', c == '_', c == '~':
			b = append(b, c)
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&0xf])
		}
	}
	return b
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isSafeURL reports whether html/template lets s be a link as it stands:
// a relative URL, or one whose scheme is http, https or mailto.
func isSafeURL(s string) bool {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") {
		return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "mailto")
	}
	return true
}
