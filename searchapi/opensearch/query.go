package opensearch

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/fluxera/activity/searchapi/query"
)

// textFields are what plain words and phrases search: asset and license
// names, user names and emails, the action in words, notes and changed
// values. All are text with the standard analyzer, so that cross_fields
// can treat them as one field.
var textFields = []string{
	"resource.name", "related.name", "actor.name", "actor.email", "summary", "note",
	"changes.before", "changes.after",
}

// actionPattern is an action such as asset.created; a word of this form
// also matches the action field exactly.
var actionPattern = regexp.MustCompile(`^[a-z][a-z_]*\.[a-z][a-z_]*$`)

// uuidPattern is an id as the platform makes them.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// searchQuery returns the bool query that finds the events matching q
// within the scope filters. The scope is always a filter of its own, so no
// term of q can widen it: terms only add must and must_not clauses.
func searchQuery(scope []any, q query.Query) map[string]any {
	b := map[string]any{"filter": scope}
	var must, mustNot []any
	for _, c := range q {
		if len(c) == 1 {
			if c[0].Negated {
				mustNot = append(mustNot, termQuery(c[0]))
			} else {
				must = append(must, termQuery(c[0]))
			}
			continue
		}
		alternatives := make([]any, len(c))
		for i, t := range c {
			alternatives[i] = termQuery(t)
			if t.Negated {
				alternatives[i] = map[string]any{"bool": map[string]any{"must_not": []any{alternatives[i]}}}
			}
		}
		must = append(must, anyOf(alternatives...))
	}
	if len(must) > 0 {
		b["must"] = must
	}
	if len(mustNot) > 0 {
		b["must_not"] = mustNot
	}
	return map[string]any{"bool": b}
}

// termQuery returns the query that matches the events t holds for,
// disregarding its negation.
func termQuery(t query.Term) map[string]any {
	v := t.Value
	switch t.Qualifier {
	case "":
		return textQuery(t)
	case query.Actor:
		switch {
		case strings.Contains(v, "@"):
			return term("actor.email.keyword", strings.ToLower(v))
		case uuidPattern.MatchString(v):
			return term("actor.id", id(v))
		}
		return matchPhrase("actor.name", v)
	case query.Action:
		if strings.Contains(v, "*") {
			return map[string]any{"wildcard": map[string]any{"action": map[string]any{"value": wildcard(v)}}}
		}
		return term("action", v)
	case query.Category:
		return term("category", v)
	case query.Resource:
		typ, rid, ok := strings.Cut(v, ":")
		if !ok {
			return term("resource.type", typ)
		}
		return allOf(term("resource.type", typ), term("resource.id", id(rid)))
	case query.ID:
		return anyOf(term("resource.id", id(v)), term("related.id", id(v)))
	case query.IP:
		// The ip field takes an address or a CIDR range in a term query.
		return term("context.ip", v)
	case query.Outcome:
		return term("outcome", v)
	case query.Method:
		return term("context.method", v)
	case query.Field:
		return term("changes.field", v)
	case query.Country:
		return term("context.location.country", v)
	case query.Browser:
		return termIgnoringCase("client.browser", v)
	case query.OS:
		// An operating system is stored with its version ("macOS 14.4"):
		// os:macos finds every version, os:"macOS 14.4" that one.
		return anyOf(termIgnoringCase("client.os", v), map[string]any{"prefix": map[string]any{
			"client.os": map[string]any{"value": v + " ", "case_insensitive": true},
		}})
	case query.Note:
		if t.Phrase {
			return matchPhrase("note", v)
		}
		return map[string]any{"match": map[string]any{"note": map[string]any{"query": v, "operator": "and"}}}
	}
	// Parse knows no other qualifier; an unknown one matches nothing
	// rather than everything.
	return map[string]any{"match_none": map[string]any{}}
}

// textQuery matches a plain word or phrase against every text field. A
// word must match as a whole somewhere: each of the tokens it is analyzed
// into in one field or another. A word that is an action also matches the
// action, and one that is an IP address the address of the request.
func textQuery(t query.Term) map[string]any {
	if t.Phrase {
		return map[string]any{"multi_match": map[string]any{"query": t.Value, "fields": textFields, "type": "phrase"}}
	}
	words := map[string]any{"multi_match": map[string]any{
		"query": t.Value, "fields": textFields, "type": "cross_fields", "operator": "and",
	}}
	alternatives := []any{words}
	if a := strings.ToLower(t.Value); actionPattern.MatchString(a) {
		alternatives = append(alternatives, term("action", a))
	}
	if a, err := netip.ParseAddr(t.Value); err == nil && a.Zone() == "" {
		alternatives = append(alternatives, term("context.ip", a.String()))
	}
	if len(alternatives) == 1 {
		return words
	}
	return anyOf(alternatives...)
}

// id returns an id as it is stored: the platform writes its UUIDs in
// lower case, whatever case they are pasted in.
func id(v string) string {
	if uuidPattern.MatchString(v) {
		return strings.ToLower(v)
	}
	return v
}

// wildcard escapes everything in an action pattern that the wildcard query
// would read as special, but for *, the one wildcard the syntax has.
func wildcard(v string) string {
	return strings.NewReplacer(`\`, `\\`, `?`, `\?`).Replace(v)
}

func termIgnoringCase(field, value string) map[string]any {
	return map[string]any{"term": map[string]any{field: map[string]any{"value": value, "case_insensitive": true}}}
}

func matchPhrase(field, value string) map[string]any {
	return map[string]any{"match_phrase": map[string]any{field: value}}
}

func anyOf(queries ...any) map[string]any {
	return map[string]any{"bool": map[string]any{"should": queries, "minimum_should_match": 1}}
}

func allOf(queries ...any) map[string]any {
	return map[string]any{"bool": map[string]any{"filter": queries}}
}
