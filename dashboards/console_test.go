package dashboards

import (
	"html/template"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

func TestLocalPath(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/settings/activity-log?date=7d", "/settings/activity-log?date=7d"},
		{"/", "/"},
		{"", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/me/activity\r\nSet-Cookie: x=1", "/"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			if got := localPath(tc.next); got != tc.want {
				t.Errorf("localPath(%q) = %q, want %q", tc.next, got, tc.want)
			}
		})
	}
}

func TestReadQueryError(t *testing.T) {
	for _, tc := range []struct {
		q                 string
		ok                bool
		before, at, after string
	}{
		{q: `laptop "Desk phone"`, ok: true},
		{q: "laptop -", before: "laptop ", at: "-"},
		{q: `né "open`, before: "né ", at: `"`, after: "open"},
		{q: "colour:red x", before: "", at: "c", after: "olour:red x"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			e := readQueryError(tc.q)
			if tc.ok {
				if e != nil {
					t.Fatalf("%q is read as an error: %+v", tc.q, e)
				}
				return
			}
			if e == nil || e.Message == "" {
				t.Fatalf("%q reads", tc.q)
			}
			if e.Before != tc.before || e.At != tc.at || e.After != tc.after {
				t.Errorf("split %q|%q|%q, want %q|%q|%q", e.Before, e.At, e.After, tc.before, tc.at, tc.after)
			}
		})
	}
}

func TestFilterFormApply(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// 00:30 in Berlin on 7 December is still 6 December in UTC: yesterday
	// is read in the workspace's time zone.
	now := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC)
	c := &Console{now: func() time.Time { return now }}
	v := view{Zone: berlin}
	user := "0190F000-0000-7000-8000-000000000001"
	for _, tc := range []struct {
		name  string
		form  filterForm
		want  searchapi.EventFilter
		field string
	}{
		{name: "nothing", form: filterForm{}, want: searchapi.EventFilter{}},
		{name: "preset", form: filterForm{Date: "7d", Category: "asset"}, want: searchapi.EventFilter{Range: "7d", Categories: []string{"asset"}}},
		{name: "yesterday", form: filterForm{Date: "yesterday"}, want: searchapi.EventFilter{From: "2026-12-06", To: "2026-12-06"}},
		{name: "custom", form: filterForm{Date: "custom", From: "2026-01-01", To: "2026-01-31"}, want: searchapi.EventFilter{From: "2026-01-01", To: "2026-01-31"}},
		{name: "user and resource", form: filterForm{User: user, Resource: "asset", Q: "laptop"}, want: searchapi.EventFilter{Users: []string{user}, Resources: []string{"asset"}, Query: "laptop"}},
		{name: "user not an id", form: filterForm{User: "bob"}, field: "user"},
		{name: "unknown preset", form: filterForm{Date: "fortnight"}, field: "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f searchapi.EventFilter
			err := tc.form.apply(&f, c, v)
			if tc.field != "" {
				if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tc.field {
					t.Fatalf("error %v, want EINVALID on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Query != tc.want.Query || f.Range != tc.want.Range || f.From != tc.want.From || f.To != tc.want.To ||
				len(f.Users) != len(tc.want.Users) || len(f.Categories) != len(tc.want.Categories) || len(f.Resources) != len(tc.want.Resources) {
				t.Errorf("filter %+v, want %+v", f, tc.want)
			}
		})
	}
}

func TestPagesParse(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"login", "error", "log", "entry", "users", "assets", "licenses", "report"} {
		if pages[name] == nil {
			t.Errorf("no page %s", name)
		}
	}
}

func TestFilterOptions(t *testing.T) {
	choices := domain.FilterChoices{
		Users:  []domain.Choice{{ID: "u-1", Name: `Ann "<b>"`, Email: "ann@example.com"}, {ID: "u-2", Name: "Bob & Co", Email: "bob@example.com"}},
		Assets: []domain.Choice{{ID: "a-1", Name: `<img src=x onerror=alert(1)>`}},
	}
	for _, tc := range []struct {
		name string
		got  template.HTML
		want string
	}{
		{"users", userOptions(choices.Users, "u-2"), `<option value="u-1">Ann &#34;&lt;b&gt;&#34; (ann@example.com)</option>` +
			`<option value="u-2" selected>Bob &amp; Co (bob@example.com)</option>`},
		{"resources", resourceOptions(choices, "asset:a-1"), `<optgroup label="Assets"><option value="asset:a-1" selected>&lt;img src=x onerror=alert(1)&gt;</option></optgroup>` +
			`<optgroup label="Users"><option value="user:u-1">Ann &#34;&lt;b&gt;&#34;</option><option value="user:u-2">Bob &amp; Co</option></optgroup>`},
		{"nothing to offer", resourceOptions(domain.FilterChoices{}, ""), ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Errorf("got  %s\nwant %s", tc.got, tc.want)
			}
		})
	}
}

func TestWrittenOptions(t *testing.T) {
	ann := domain.FilterChoices{Users: []domain.Choice{{ID: "u-1", Name: "Ann", Email: "ann@example.com"}}, Key: "1"}
	bob := domain.FilterChoices{Users: []domain.Choice{{ID: "u-2", Name: "Bob", Email: "bob@example.com"}}, Key: "2"}
	// Choices under a key they were not read with, to tell what is kept
	// from what is written.
	annAsBob := domain.FilterChoices{Users: bob.Users, Key: ann.Key}
	written := func(c domain.FilterChoices, selected string) filterOptions {
		return filterOptions{users: userOptions(c.Users, selected), resources: resourceOptions(c, "")}
	}
	var w writtenOptions
	for _, tc := range []struct {
		name      string
		workspace string
		choices   domain.FilterChoices
		form      filterForm
		want      filterOptions
	}{
		{"first read", "w-1", ann, filterForm{}, written(ann, "")},
		{"same key, kept", "w-1", annAsBob, filterForm{}, written(ann, "")},
		{"a user selected, written", "w-1", annAsBob, filterForm{User: "u-2"}, written(bob, "u-2")},
		{"kept still", "w-1", annAsBob, filterForm{}, written(ann, "")},
		{"another workspace", "w-2", bob, filterForm{}, written(bob, "")},
		{"a new key, written", "w-1", domain.FilterChoices{Users: bob.Users, Key: "3"}, filterForm{}, written(bob, "")},
		{"no key, written", "w-3", domain.FilterChoices{Users: ann.Users}, filterForm{}, written(ann, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := w.options(tc.workspace, tc.choices, tc.form)
			if got.users != tc.want.users || got.resources != tc.want.resources {
				t.Errorf("got %q, %q\nwant %q, %q", got.users, got.resources, tc.want.users, tc.want.resources)
			}
		})
	}
}
