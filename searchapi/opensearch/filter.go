package opensearch

import (
	"strings"

	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/query"
)

// filterClauses returns one filter clause per kind of filter f sets; f has
// been validated, so its values are as events store them.
func filterClauses(f searchapi.EventFilter) []any {
	var out []any
	if len(f.Users) > 0 {
		out = append(out, terms("actor.id", f.Users))
	}
	if f.Actor != "" {
		out = append(out, term("actor.id", f.Actor))
	}
	if len(f.Categories) > 0 {
		out = append(out, terms("category", f.Categories))
	}
	if len(f.Actions) > 0 {
		out = append(out, each(f.Actions, func(v string) any { return termQuery(query.Term{Qualifier: query.Action, Value: v}) }))
	}
	if len(f.Resources) > 0 {
		out = append(out, each(f.Resources, func(v string) any {
			typ, id, _ := strings.Cut(v, ":")
			return resourceOrRelated(typ, id)
		}))
	}
	if f.Subject != nil {
		out = append(out, resourceOrRelated(f.Subject.Type, f.Subject.ID))
	}
	if f.Involving != "" {
		out = append(out, anyOf(term("actor.id", f.Involving), resourceOrRelated("user", f.Involving)))
	}
	if len(f.IPs) > 0 {
		out = append(out, each(f.IPs, func(v string) any { return term("context.ip", v) }))
	}
	if f.Outcome != "" {
		out = append(out, term("outcome", f.Outcome))
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		r := map[string]any{"format": "epoch_millis"}
		if !f.Since.IsZero() {
			r["gte"] = f.Since.UnixMilli()
		}
		if !f.Until.IsZero() {
			r["lt"] = f.Until.UnixMilli()
		}
		out = append(out, map[string]any{"range": map[string]any{"occurred_at": r}})
	}
	return out
}

// resourceOrRelated matches the events whose resource, or one of whose
// related resources, is of type typ and, when id is given, has that id.
func resourceOrRelated(typ, id string) map[string]any {
	if id == "" {
		return anyOf(term("resource.type", typ), term("related.type", typ))
	}
	return anyOf(
		allOf(term("resource.type", typ), term("resource.id", id)),
		allOf(term("related.type", typ), term("related.id", id)),
	)
}

func terms(field string, values []string) map[string]any {
	return map[string]any{"terms": map[string]any{field: values}}
}

// each matches the events that any of values matches.
func each(values []string, match func(string) any) map[string]any {
	alternatives := make([]any, len(values))
	for i, v := range values {
		alternatives[i] = match(v)
	}
	return anyOf(alternatives...)
}
