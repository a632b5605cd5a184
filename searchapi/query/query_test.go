package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// w, p and q build expected terms: a word, a phrase and a qualifier term
// at a position.
func w(pos int, v string) Term { return Term{Value: v, Pos: pos} }
func p(pos int, v string) Term { return Term{Value: v, Phrase: true, Pos: pos} }
func q(pos int, qualifier, v string) Term {
	return Term{Qualifier: qualifier, Value: v, Pos: pos}
}
func qp(pos int, qualifier, v string) Term {
	return Term{Qualifier: qualifier, Value: v, Phrase: true, Pos: pos}
}
func not(t Term) Term { t.Negated = true; return t }

// and is a query of one-term clauses.
func and(terms ...Term) Query {
	var out Query
	for _, t := range terms {
		out = append(out, Clause{t})
	}
	return out
}

func TestParse(t *testing.T) {
	uuid := "0190f0c2-7a4e-7c4b-9a8e-3f1b2c3d4e5f"
	tests := []struct {
		name string
		in   string
		want Query
	}{
		{"empty", "", nil},
		{"only spaces", " \t\n ", nil},
		{"one word", "MacBook", and(w(1, "MacBook"))},
		{"leading and trailing spaces", "  MacBook  Pro ", and(w(3, "MacBook"), w(12, "Pro"))},
		{"tabs and newlines separate", "a\tb\nc", and(w(1, "a"), w(3, "b"), w(5, "c"))},
		{"phrase", `"MacBook Pro"`, and(p(1, "MacBook Pro"))},
		{"the example", `actor:admin@example.com action:license.* ip:10.0.0.0/8 -outcome:success "MacBook Pro"`, and(
			q(1, Actor, "admin@example.com"), q(25, Action, "license.*"), q(42, IP, "10.0.0.0/8"),
			not(q(56, Outcome, "success")), p(73, "MacBook Pro"))},
		{"quoted qualifier value", `actor:"Jane Roe"`, and(qp(1, Actor, "Jane Roe"))},
		{"spaces inside a quoted value are trimmed", `actor:"  Jane Roe "`, and(qp(1, Actor, "Jane Roe"))},
		{"negated word", "-retired", and(not(w(1, "retired")))},
		{"negated phrase", `-"MacBook Pro"`, and(not(p(1, "MacBook Pro")))},
		{"negated qualifier", "-ip:10.0.0.1", and(not(q(1, IP, "10.0.0.1")))},
		{"only negations", "-outcome:success -action:auth.*", and(not(q(1, Outcome, "success")), not(q(18, Action, "auth.*")))},
		{"hyphen inside a word", "A-1029 -A-1030", and(w(1, "A-1029"), not(w(8, "A-1030")))},
		{"escaped quote and backslash", `note:"a \"big\" one \\o/"`, and(qp(1, Note, `a "big" one \o/`))},
		{"other backslashes are kept", `"C:\Users\jane"`, and(p(1, `C:\Users\jane`))},
		{"backslash outside quotes is a character", `a\b\`, and(w(1, `a\b\`))},
		{"colon inside a phrase", `"status:lost" "10:30"`, and(p(1, "status:lost"), p(15, "10:30"))},
		{"colon inside a qualifier value", `note:"ticket: 42"`, and(qp(1, Note, "ticket: 42"))},
		{"url", "https://example.com/a?b=c#d", and(w(1, "https://example.com/a?b=c#d"))},
		{"url with mailto is not a url", `"mailto:x@example.com"`, and(p(1, "mailto:x@example.com"))},
		{"ipv6 address with letters", "dead::beef fe80::1", and(w(1, "dead::beef"), w(12, "fe80::1"))},
		{"time", "10:30", and(w(1, "10:30"))},
		{"unicode words", `Müller 東京 "Zoë Å" -naïve`, and(w(1, "Müller"), w(8, "東京"), p(11, "Zoë Å"), not(w(19, "naïve")))},
		{"emoji", "🚀 launch", and(w(1, "🚀"), w(3, "launch"))},
		{"qualifier names ignore case", "ACTOR:jane Outcome:FAILURE", and(q(1, Actor, "jane"), q(12, Outcome, "failure"))},
		{"resource type", "resource:Asset", and(q(1, Resource, "asset"))},
		{"resource type and id", "resource:asset:" + uuid, and(q(1, Resource, "asset:"+uuid))},
		{"id", "id:" + uuid, and(q(1, ID, uuid))},
		{"ipv4 range masked", "ip:10.1.2.3/8", and(q(1, IP, "10.0.0.0/8"))},
		{"ipv4 wildcard", "ip:10.* ip:192.0.2.*", and(q(1, IP, "10.0.0.0/8"), q(9, IP, "192.0.2.0/24"))},
		{"ipv6 address", "ip:2001:DB8::0001", and(q(1, IP, "2001:db8::1"))},
		{"ipv6 range", "ip:2001:db8::/32", and(q(1, IP, "2001:db8::/32"))},
		{"action exact", "action:License.Created", and(q(1, Action, "license.created"))},
		{"action wildcards", "action:*.deleted action:license.*", and(q(1, Action, "*.deleted"), q(18, Action, "license.*"))},
		{"enumerations", "category:LICENSE method:API outcome:failure", and(q(1, Category, "license"), q(18, Method, "api"), q(29, Outcome, "failure"))},
		{"country", "country:gb", and(q(1, Country, "GB"))},
		{"field with spaces", `field:"Asset Tag" field:status`, and(qp(1, Field, "asset_tag"), q(19, Field, "status"))},
		{"browser and os", `browser:"Samsung Internet" os:macOS`, and(qp(1, Browser, "Samsung Internet"), q(28, OS, "macOS"))},
		{"note word", "note:designer", and(q(1, Note, "designer"))},
		{"OR", "a OR b c", Query{{w(1, "a"), w(6, "b")}, {w(8, "c")}}},
		{"OR chain", "a OR b OR -c", Query{{w(1, "a"), w(6, "b"), not(w(11, "c"))}}},
		{"OR between qualifiers", "outcome:failure OR action:*.deleted", Query{{q(1, Outcome, "failure"), q(20, Action, "*.deleted")}}},
		{"lower-case or is a word", "a or b", and(w(1, "a"), w(3, "or"), w(6, "b"))},
		{"quoted OR is a phrase", `a "OR" b`, and(w(1, "a"), p(3, "OR"), w(8, "b"))},
		{"negated OR is a word", "a -OR", and(w(1, "a"), not(w(3, "OR")))},
		{"OR inside a word", "ORACLE ORx xOR", and(w(1, "ORACLE"), w(8, "ORx"), w(12, "xOR"))},
		{"windows path", `C:\temp`, and(w(1, `C:\temp`))},
		{"twenty terms", strings.Repeat("x ", 20), func() Query {
			var out Query
			for i := range 20 {
				out = append(out, Clause{w(1+2*i, "x")})
			}
			return out
		}()},
		{"500 characters within spaces", "  " + strings.Repeat("é", 500) + "  ", and(w(3, strings.Repeat("é", 500)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
			// Written back in the syntax, the query reads the same.
			again, err := Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(%q), written back from %q: %v", got.String(), tt.in, err)
			}
			if !reflect.DeepEqual(withoutPositions(again), withoutPositions(got)) {
				t.Errorf("%q written back as %q parses as %#v", tt.in, got.String(), again)
			}
		})
	}
}

func withoutPositions(q Query) Query {
	out := Query{}
	for _, c := range q {
		var cc Clause
		for _, t := range c {
			t.Pos = 0
			cc = append(cc, t)
		}
		out = append(out, cc)
	}
	return out
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, in string
		pos      int
		message  string
	}{
		{"unterminated quote", `"MacBook Pro`, 1, "unterminated quote at position 1"},
		{"unterminated quote later", `actor:admin "Mac`, 13, "unterminated quote at position 13"},
		{"unterminated qualifier value", `actor:"Jane`, 7, "unterminated quote at position 7"},
		{"escaped closing quote", `"abc\"`, 1, "unterminated quote at position 1"},
		{"lone quote", `"`, 1, "unterminated quote at position 1"},
		{"stray quote in a word", `foo"bar`, 4, "stray quote at position 4"},
		{"stray quote at a word's end", `5"`, 2, "stray quote at position 2"},
		{"stray quote in a qualifier value", `note:foo"bar"`, 9, "stray quote at position 9"},
		{"text after a closing quote", `"foo"bar`, 5, "the quote closed at position 5 must be followed by a space"},
		{"two phrases without a space", `"a""b"`, 3, "the quote closed at position 3 must be followed by a space"},
		{"empty quotes", `a ""`, 3, "the quotes at position 3 hold nothing to search for"},
		{"blank quotes", `"   "`, 1, "the quotes at position 1 hold nothing to search for"},
		{"unknown qualifier", "colour:red", 1, `unknown qualifier "colour" at position 1 (use actor, action, category, resource, id, ip, outcome, method, field, country, browser, os, note; put text with a colon in quotes)`},
		{"unknown negated qualifier", "a -user:jane", 4, `unknown qualifier "user" at position 4`},
		{"mailto", "mailto:x@example.com", 1, `unknown qualifier "mailto"`},
		{"OR with a colon", "a OR:b", 3, `unknown qualifier "OR"`},
		{"empty value", "actor:", 1, "actor: at position 1 has no value"},
		{"empty value before a space", "actor: jane", 1, "actor: at position 1 has no value"},
		{"empty quoted value", `a -actor:""`, 4, "actor: at position 4 has no value"},
		{"blank quoted value", `note:"  "`, 1, "note: at position 1 has no value"},
		{"lone dash", "-", 1, `"-" at position 1 must be followed by a word, a phrase or a qualifier, without a space`},
		{"dash between words", "foo - bar", 5, `"-" at position 5`},
		{"trailing dash", "foo -", 5, `"-" at position 5`},
		{"double dash", "--foo", 1, `"--" at position 1: a term is negated with a single "-"`},
		{"leading OR", "OR foo", 1, "OR at position 1 must stand between two terms"},
		{"trailing OR", "foo OR", 5, "OR at position 5 must stand between two terms"},
		{"double OR", "foo OR OR bar", 8, "OR at position 8 must stand between two terms"},
		{"bad CIDR", "ip:10.0.0.0/33", 4, `ip: "10.0.0.0/33" is not an address or CIDR range`},
		{"bad address", "ip:10.0.0.256", 4, `ip: "10.0.0.256" is not an address or CIDR range`},
		{"zoned address", "ip:fe80::1%eth0", 4, `ip: "fe80::1%eth0" is not an address or CIDR range`},
		{"host name", "ip:example.com", 4, `ip: "example.com" is not an address or CIDR range`},
		{"two wildcards", "ip:10.*.*", 4, `ip: "10.*.*" is not an address or CIDR range`},
		{"leading zero", "ip:010.0.*", 4, `ip: "010.0.*" is not an address or CIDR range`},
		{"four octets and a wildcard", "ip:1.2.3.4.*", 4, `ip: "1.2.3.4.*" is not an address or CIDR range`},
		{"outcome", "outcome:ok", 9, `outcome must be success or failure, not "ok"`},
		{"category", "category:hardware", 10, `category must be asset, license, user, auth or system, not "hardware"`},
		{"method", "method:email", 8, `method must be web, api, import or system, not "email"`},
		{"country name", "country:Germany", 9, `country must be a two-letter code such as DE or US, not "GERMANY"`},
		{"action without a verb", "action:license", 8, `action: "license" is not an action such as license.created, license.* or *.deleted`},
		{"action with another wildcard", "action:lic?nse.*", 8, `action: "lic?nse.*" is not an action`},
		{"resource with spaces", `resource:"my asset"`, 10, `resource: "my asset" is not a resource type such as asset, or a type and an id such as asset:<id>`},
		{"resource without id", "resource:asset:", 10, `resource: "asset:" is not a resource type`},
		{"field with a hyphen", "field:asset-tag", 7, `field: "asset-tag" is not a field name such as status or asset_tag`},
		{"too long", strings.Repeat("x", 501), 501, "the search text is 501 characters long; at most 500 are allowed"},
		{"too many terms", strings.Repeat("x ", 20) + "y", 41, "the search has more than 20 terms; term 21 starts at position 41"},
		{"too many terms with OR", strings.Repeat("x OR ", 20) + "y", 101, "the search has more than 20 terms"},
		{"control character", "a\x00b", 2, "the search text has a control character at position 2"},
		{"invalid UTF-8", "a\xffb", 0, "the search text is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %#v, %v; want an *Error", tt.in, got, err)
			}
			if !strings.HasPrefix(e.Message, tt.message) {
				t.Errorf("message = %q, want it to begin %q", e.Message, tt.message)
			}
			if e.Pos != tt.pos {
				t.Errorf("position = %d, want %d", e.Pos, tt.pos)
			}
		})
	}
}

func TestTermsFlattensClauses(t *testing.T) {
	got, err := Parse("a OR b -c")
	if err != nil {
		t.Fatal(err)
	}
	want := []Term{w(1, "a"), w(6, "b"), not(w(8, "c"))}
	if !reflect.DeepEqual(got.Terms(), want) {
		t.Errorf("Terms() = %#v, want %#v", got.Terms(), want)
	}
}

func TestStringQuotesWhatWouldReadDifferently(t *testing.T) {
	tests := []struct {
		in   Query
		want string
	}{
		{and(w(0, "OR")), `"OR"`},
		{and(w(0, "-x")), `"-x"`},
		{and(not(w(0, "OR"))), `-OR`},
		{and(w(0, "dead::beef")), `dead::beef`},
		{and(w(0, "actor:x")), `"actor:x"`},
		{and(w(0, "https://example.com")), `https://example.com`},
		{and(qp(0, Note, `say "hi" \o/`)), `note:"say \"hi\" \\o/"`},
		{Query{{not(q(0, Outcome, "success")), w(0, "b")}}, `-outcome:success OR b`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

// FuzzParse checks that no text makes Parse panic, that every refusal
// says where, and that what parses reads the same written back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`actor:"Jane Roe" -ip:10.0.0.0/8 a OR b`, `"a\"b\\c"`, "-", `C:\x`, "dead::beef", "ip:10.*", "x OR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("Parse(%q): %v is not an *Error with a message", s, err)
			}
			return
		}
		again, err := Parse(got.String())
		if err != nil {
			t.Fatalf("Parse(%q) written back as %q: %v", s, got.String(), err)
		}
		if !reflect.DeepEqual(withoutPositions(again), withoutPositions(got)) {
			t.Fatalf("Parse(%q) written back as %q reads %#v", s, got.String(), again)
		}
	})
}
