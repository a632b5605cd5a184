package activity

import "strings"

// verbs words the verbs whose plain reading is not their name.
var verbs = map[string]string{
	"key_viewed":          "viewed the key of",
	"login":               "logged in",
	"logout":              "logged out",
	"login_failed":        "failed to log in",
	"password_changed":    "changed the password of",
	"role_changed":        "changed the role of",
	"maintenance_started": "started maintenance of",
}

// Summary says the action in plain words, for example
// "Jane Roe updated asset MacBook Pro A-1029" or
// "John Doe changed status from available to assigned on asset MacBook Pro".
func (e *Event) Summary() string {
	who := e.Actor.Name
	if who == "" {
		who = e.Actor.Email
	}
	if who == "" {
		who = "Someone"
	}
	_, verb, _ := strings.Cut(e.Action, ".")
	what := strings.TrimSpace(e.Resource.Type + " " + e.Resource.Name)
	if e.Category == CategoryAuth {
		if w, ok := verbs[verb]; ok {
			return who + " " + w
		}
	}
	if len(e.Changes) == 1 && strings.HasSuffix(verb, "updated") && !e.Changes[0].Redacted {
		c := e.Changes[0]
		field := strings.ReplaceAll(c.Field, "_", " ")
		return who + " changed " + field + " from " + quoteEmpty(c.Before) + " to " + quoteEmpty(c.After) + " on " + what
	}
	w, ok := verbs[verb]
	if !ok {
		w = strings.ReplaceAll(verb, "_", " ")
	}
	return who + " " + w + " " + what
}

func quoteEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
