package dashboards

import (
	"html/template"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// templateRows is the "rows" fragment as html/template's actions wrote
// it, before listView.Rows took its place: Rows must write the same
// HTML byte for byte, each value escaped as html/template escapes it
// there.
const templateRows = `{{range .Entries}}
<li class="entry{{if outcome .Outcome}} failed{{end}}">
  <div class="line">
    <time datetime="{{$.UTC .OccurredAt}}" title="{{$.UTC .OccurredAt}} (UTC)">{{$.Local .OccurredAt}}</time>
    <a class="summary" href="/activity/{{.ID}}" hx-get="/activity/{{.ID}}" hx-target="#d-{{.ID}}" hx-swap="innerHTML">{{.Summary}}</a>
    <code class="action">{{.Action}}</code>{{if outcome .Outcome}} <strong class="badge bad">failed</strong>{{end}}{{with .Restored}} <span class="badge restored">restored from the archive until <time datetime="{{$.UTC .ExpiresAt}}" title="{{$.UTC .ExpiresAt}} (UTC)">{{$.Local .ExpiresAt}}</time></span>{{end}}
  </div>
  <div id="d-{{.ID}}" class="slot"></div>
</li>{{else}}
<li class="empty">No activity matches.</li>{{end}}
{{if .More}}<li class="more"><a href="{{.More}}" hx-get="{{.More}}" hx-target="closest li" hx-swap="outerHTML">Show older entries</a></li>{{end}}
`

func TestRows(t *testing.T) {
	reference := template.Must(template.New("rows").Funcs(funcs).Parse(templateRows))
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	var every strings.Builder
	for c := range 256 {
		every.WriteByte(byte(c))
	}
	at := time.Date(2026, 10, 31, 22, 59, 58, 123456789, time.UTC)
	entry := func(id, summary, action, outcome string, restored *activity.Restored) searchapi.Entry {
		e := searchapi.Entry{Summary: summary, Restored: restored}
		e.ID, e.Action, e.Outcome, e.OccurredAt = id, action, outcome, at
		return e
	}
	plain := entry("0192f3a4-5b6c-7d8e-9f00-112233445566", "Ada Lovelace updated MacBook Pro 14 A-10001", "asset.updated", activity.OutcomeSuccess, nil)
	for _, tc := range []struct {
		name    string
		zone    *time.Location
		entries []searchapi.Entry
		more    string
	}{
		{"no entries", time.UTC, nil, ""},
		{"no entries, a next page", time.UTC, []searchapi.Entry{}, "/me/activity?cursor=abc"},
		{"entries and a next page", zone("Europe/Berlin"), []searchapi.Entry{
			plain,
			entry("0192f3a4-5b6c-7d8e-9f00-112233445567", "Grace Hopper failed to sign in", "auth.login_failed", activity.OutcomeFailure, nil),
			entry("0192f3a4-5b6c-7d8e-9f00-112233445568", "Old entry", "license.seat_assigned", activity.OutcomeSuccess,
				&activity.Restored{ID: "r-1", ExpiresAt: at.Add(72 * time.Hour)}),
		}, "/settings/activity-log?q=macbook+%22pro%22&category=asset&date=custom&from=2026-10-02&to=2026-10-31&cursor=eyJwIjoiYSJ9.c2ln"},
		{"a zone written as an offset", zone("Asia/Dubai"), []searchapi.Entry{plain}, ""},
		{"markup and quotes in every field", zone("America/New_York"), []searchapi.Entry{
			entry(`"><script>alert(1)</script>`, `<b>Bob & "Co"</b> 'said' a+b`, `x"onmouseover="alert(1)`, activity.OutcomeFailure,
				&activity.Restored{ExpiresAt: at}),
		}, `/users/1/activity?cursor='"><img src=x>&x=1`},
		{"every byte", time.UTC, []searchapi.Entry{entry(every.String(), every.String(), every.String(), every.String(), nil)}, "/x?" + every.String()},
		{"escapes, valid and not", time.UTC, []searchapi.Entry{entry("a%41%zz%4", "é ü 😀 \xff\xfe", "%", "", nil)}, "/a%2fb%%41%4"},
		{"a link to another scheme", time.UTC, []searchapi.Entry{plain}, "javascript:alert(1)"},
		{"a link to another site", time.UTC, []searchapi.Entry{plain}, "HTTPS://example.com/a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &listView{view: view{Zone: tc.zone}, Entries: tc.entries, More: tc.more}
			var want strings.Builder
			if err := reference.Execute(&want, v); err != nil {
				t.Fatal(err)
			}
			if got := string(v.Rows()); got != want.String() {
				t.Errorf("got\n%q\nwant\n%q", got, want.String())
			}
		})
	}
}
