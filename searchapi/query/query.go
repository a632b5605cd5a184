// Package query parses the search text of the activity log into terms: plain
// words, "quoted phrases" and qualifier:value pairs, each of which may be
// negated with a leading "-". Terms side by side must all hold; two terms
// joined by an upper-case OR hold when either does.
//
// The parser checks every qualifier's value, so that a search which cannot
// mean anything is refused with a message saying what is wrong and where,
// instead of silently finding nothing. It imports only the standard library;
// the search adapters translate a Query into their own query language.
package query

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of one search.
const (
	// MaxLength is the longest search text, in characters, not counting
	// leading and trailing spaces.
	MaxLength = 500
	// MaxTerms is the most terms a search may have.
	MaxTerms = 20
)

// Qualifiers name what a term is matched against.
const (
	// Actor is who acted: an email, a user id, or otherwise a name.
	Actor = "actor"
	// Action is an action such as license.created, with * as a wildcard.
	Action = "action"
	// Category is asset, license, user, auth or system.
	Category = "category"
	// Resource is a resource type such as asset, or a type and an id
	// such as asset:<id>.
	Resource = "resource"
	// ID is the id of the resource or of a related resource.
	ID = "id"
	// IP is an address or a CIDR range, IPv4 or IPv6.
	IP = "ip"
	// Outcome is success or failure.
	Outcome = "outcome"
	// Method is web, api, import or system.
	Method = "method"
	// Field is the name of a changed field.
	Field = "field"
	// Country is the two-letter code of the country of the address.
	Country = "country"
	// Browser is the browser or program named by the user agent.
	Browser = "browser"
	// OS is the operating system named by the user agent.
	OS = "os"
	// Note is text in the note of an action.
	Note = "note"
)

// Qualifiers lists every qualifier in the order the documentation gives them.
var Qualifiers = []string{Actor, Action, Category, Resource, ID, IP, Outcome, Method, Field, Country, Browser, OS, Note}

// Term is one condition of a search.
type Term struct {
	// Qualifier is one of the Qualifiers, or empty for plain text.
	Qualifier string
	// Value is the text of the term, unquoted and unescaped. Values of
	// action, category, outcome, method, field, country and ip are in the
	// form they are stored in: lower case (country upper case), and an ip
	// range as a CIDR range.
	Value string
	// Phrase says the value was quoted: plain text then matches as a
	// phrase, a note's text as well.
	Phrase bool
	// Negated says the term must not hold.
	Negated bool
	// Pos is the position of the term's first character in the search
	// text, counted in characters from 1.
	Pos int
}

// Clause holds when any of its terms holds: one term, or terms joined by OR.
type Clause []Term

// Query is a parsed search: every clause must hold. The empty query finds
// everything.
type Query []Clause

// Error is a search text that cannot be parsed. Message says what is wrong
// and where, in words meant for the person who typed the search.
type Error struct {
	// Pos is the position of the fault, counted in characters from 1.
	Pos     int
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Message: fmt.Sprintf(format, args...)}
}

// Parse parses a search text. Spaces separate terms; leading and trailing
// spaces are ignored, and the empty text is the empty query. A query of
// negated terms only is allowed: it finds everything but what they match.
//
// It returns an *Error when the text is longer than MaxLength characters or
// has more than MaxTerms terms, has a quote that is not closed or stands
// inside a word, a "-" or qualifier with nothing after it, an OR that does
// not stand between two terms, an unknown qualifier, or a qualifier value
// that is not one the qualifier takes.
func Parse(s string) (Query, error) {
	if !utf8.ValidString(s) {
		return nil, errorf(0, "the search text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(s)); n > MaxLength {
		return nil, errorf(MaxLength+1, "the search text is %d characters long; at most %d are allowed", n, MaxLength)
	}
	p := parser{text: []rune(s)}
	for i, r := range p.text {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return nil, errorf(i+1, "the search text has a control character at position %d", i+1)
		}
	}
	var q Query
	terms, orAt := 0, 0
	for {
		p.skipSpace()
		if p.end() {
			break
		}
		if p.atOr() {
			if len(q) == 0 || orAt != 0 {
				return nil, errorf(p.pos(), "OR at position %d must stand between two terms", p.pos())
			}
			orAt = p.pos()
			p.i += 2
			continue
		}
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		if terms++; terms > MaxTerms {
			return nil, errorf(t.Pos, "the search has more than %d terms; term %d starts at position %d", MaxTerms, MaxTerms+1, t.Pos)
		}
		if orAt != 0 {
			q[len(q)-1] = append(q[len(q)-1], t)
			orAt = 0
		} else {
			q = append(q, Clause{t})
		}
	}
	if orAt != 0 {
		return nil, errorf(orAt, "OR at position %d must stand between two terms", orAt)
	}
	return q, nil
}

// Terms returns every term of q in the order they were written.
func (q Query) Terms() []Term {
	var all []Term
	for _, c := range q {
		all = append(all, c...)
	}
	return all
}

// String returns q written in the search syntax; parsing it gives q again,
// but for the terms' positions.
func (q Query) String() string {
	var b strings.Builder
	for i, c := range q {
		if i > 0 {
			b.WriteByte(' ')
		}
		for j, t := range c {
			if j > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString(t.String())
		}
	}
	return b.String()
}

// String returns t written in the search syntax: its value in quotes when
// it was a phrase or would read differently without them.
func (t Term) String() string {
	prefix := ""
	if t.Negated {
		prefix = "-"
	}
	if t.Qualifier != "" {
		prefix += t.Qualifier + ":"
	}
	if !t.Phrase {
		bare := prefix + t.Value
		if q, err := Parse(bare); err == nil && len(q) == 1 && len(q[0]) == 1 {
			if got := q[0][0]; got.Value == t.Value && got.Qualifier == t.Qualifier && got.Negated == t.Negated && !got.Phrase {
				return bare
			}
		}
	}
	return prefix + quote(t.Value)
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// parser reads the search text one term at a time; i indexes text.
type parser struct {
	text []rune
	i    int
}

func (p *parser) end() bool  { return p.i >= len(p.text) }
func (p *parser) pos() int   { return p.i + 1 }
func (p *parser) peek() rune { return p.text[p.i] }

func (p *parser) skipSpace() {
	for !p.end() && unicode.IsSpace(p.peek()) {
		p.i++
	}
}

// atSeparator reports whether the text ends or a space follows at j.
func (p *parser) atSeparator(j int) bool {
	return j >= len(p.text) || unicode.IsSpace(p.text[j])
}

// atOr reports whether the next word is the operator OR.
func (p *parser) atOr() bool {
	return p.i+1 < len(p.text) && p.text[p.i] == 'O' && p.text[p.i+1] == 'R' && p.atSeparator(p.i+2)
}

// term reads one term: an optional "-", then a phrase, a qualifier with its
// value, or a word.
func (p *parser) term() (Term, error) {
	t := Term{Pos: p.pos()}
	if p.peek() == '-' {
		t.Negated = true
		p.i++
		if p.atSeparator(p.i) {
			return t, errorf(t.Pos, `"-" at position %d must be followed by a word, a phrase or a qualifier, without a space`, t.Pos)
		}
		if p.peek() == '-' {
			return t, errorf(t.Pos, `"--" at position %d: a term is negated with a single "-"`, t.Pos)
		}
	}
	if p.peek() == '"' {
		v, err := p.quoted()
		if err != nil {
			return t, err
		}
		if strings.TrimSpace(v) == "" {
			return t, errorf(t.Pos, "the quotes at position %d hold nothing to search for", t.Pos)
		}
		t.Value, t.Phrase = v, true
		return t, nil
	}
	if name, n, ok := qualifierPrefix(p.text[p.i:]); ok && !p.isAddressOrPath() {
		qualifier, qpos := strings.ToLower(name), p.pos()
		if !isQualifier(qualifier) {
			return t, errorf(qpos, "unknown qualifier %q at position %d (use %s; put text with a colon in quotes)", name, qpos, strings.Join(Qualifiers, ", "))
		}
		t.Qualifier = qualifier
		p.i += n
		at := p.pos()
		switch {
		case p.atSeparator(p.i):
			return t, errorf(qpos, "%s: at position %d has no value", qualifier, qpos)
		case p.peek() == '"':
			v, err := p.quoted()
			if err != nil {
				return t, err
			}
			t.Value, t.Phrase = v, true
		default:
			v, err := p.word()
			if err != nil {
				return t, err
			}
			t.Value = v
		}
		if strings.TrimSpace(t.Value) == "" {
			return t, errorf(qpos, "%s: at position %d has no value", qualifier, qpos)
		}
		v, err := normalize(t.Qualifier, t.Value)
		if err != nil {
			return t, errorf(at, "%s", err.Error())
		}
		t.Value = v
		return t, nil
	}
	v, err := p.word()
	if err != nil {
		return t, err
	}
	t.Value = v
	return t, nil
}

// word reads up to the next space. A quote inside a word is an error: it
// most likely opens a phrase the person meant to start at the word.
func (p *parser) word() (string, error) {
	start := p.i
	for !p.atSeparator(p.i) {
		if p.peek() == '"' {
			return "", errorf(p.pos(), `stray quote at position %d (put quotes around a whole phrase or value; inside quotes write \" for a quote)`, p.pos())
		}
		p.i++
	}
	return string(p.text[start:p.i]), nil
}

// quoted reads a quoted string starting at its opening quote. Inside,
// \" is a quote and \\ a backslash; any other backslash is kept as it is.
func (p *parser) quoted() (string, error) {
	open := p.pos()
	p.i++
	var b strings.Builder
	for {
		if p.end() {
			return "", errorf(open, "unterminated quote at position %d", open)
		}
		r := p.peek()
		switch {
		case r == '\\' && p.i+1 < len(p.text) && (p.text[p.i+1] == '"' || p.text[p.i+1] == '\\'):
			b.WriteRune(p.text[p.i+1])
			p.i += 2
			continue
		case r == '"':
			p.i++
			if !p.atSeparator(p.i) {
				return "", errorf(p.pos()-1, "the quote closed at position %d must be followed by a space", p.pos()-1)
			}
			return b.String(), nil
		}
		b.WriteRune(r)
		p.i++
	}
}

// qualifierPrefix reports whether s starts with a qualifier: letters or
// underscores followed by a colon. It returns the name and the length of
// the prefix with its colon.
func qualifierPrefix(s []rune) (name string, n int, ok bool) {
	for i, r := range s {
		switch {
		case r == ':' && i > 0:
			return string(s[:i]), i + 1, true
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || r == '_'):
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

// isAddressOrPath reports whether the word at the parser is an IP address
// such as fe80::1, a URL such as https://example.com or a Windows path such
// as C:\temp, whose colon does not follow a qualifier.
func (p *parser) isAddressOrPath() bool {
	j := p.i
	for !p.atSeparator(j) {
		j++
	}
	w := string(p.text[p.i:j])
	if _, err := netip.ParseAddr(w); err == nil {
		return true
	}
	_, rest, _ := strings.Cut(w, ":")
	return strings.HasPrefix(rest, "//") || strings.HasPrefix(rest, `\`)
}

func isQualifier(name string) bool {
	for _, q := range Qualifiers {
		if q == name {
			return true
		}
	}
	return false
}
