// Package privacy does what the platform owes a person under the GDPR
// beside keeping the log: it gives them a stable pseudonym in their
// workspace and replaces their name, email, IP addresses and free-text
// mentions with it across the search index, the archive and the report
// store, keeping each entry's structure and its place in the hash chain.
//
// It defines the stores it needs; the search index's and PostgreSQL's
// adapters implement them, and the wiring puts them together.
package privacy

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	activity "github.com/fluxera/activity"
)

// Pseudonym is what replaces a person's values: a name, an email and an
// IP address, each of the form its field expects.
type Pseudonym struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// IP is an address of the documentation range 2001:db8::/32, which is
	// never routed, so that the index's ip field keeps holding an address.
	IP string `json:"ip"`
}

// WorkspaceKey derives a workspace's pseudonym key from the platform's
// secret key: the same person gets the same pseudonym in one workspace,
// and unrelated ones in two.
func WorkspaceKey(secret []byte, workspace string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("fluxera-pseudonym-v1\n" + workspace))
	return m.Sum(nil)
}

// PseudonymOf returns the stable pseudonym of the person with the given id
// under key: "Former user 7f3a1b2c", former-user-7f3a1b2c@anonymized.invalid
// and 2001:db8:7f3a:1b2c:…. Without the key it tells nothing of the id.
func PseudonymOf(key []byte, id string) Pseudonym {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	sum := m.Sum(nil)
	tag := hex.EncodeToString(sum[:4])
	var a [16]byte
	a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
	copy(a[4:], sum[:12])
	return Pseudonym{
		Name:  "Former user " + tag,
		Email: "former-user-" + tag + "@anonymized.invalid",
		IP:    netip.AddrFrom16(a).String(),
	}
}

// Subject is a person whose values are replaced: their user id and every
// name, email and IP address recorded for them.
type Subject struct {
	UserID string
	Names  []string
	Emails []string
	IPs    []string
}

// Add merges other's values into s, without repeats or empty values.
func (s *Subject) Add(other Subject) {
	add := func(to *[]string, vs []string) {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(*to, v) {
				*to = append(*to, v)
			}
		}
	}
	add(&s.Names, other.Names)
	add(&s.Emails, other.Emails)
	add(&s.IPs, other.IPs)
}

// RecordedIn returns the values e records for the user: their name,
// email and IP address where they are the actor, their name where they
// are the resource or a related resource.
func RecordedIn(e activity.Event, userID string) Subject {
	var s Subject
	if userID == "" {
		return s
	}
	if e.Actor.ID == userID {
		s.Add(Subject{Names: []string{e.Actor.Name}, Emails: []string{e.Actor.Email}, IPs: []string{e.Context.IP}})
	}
	if e.Resource.Type == "user" && e.Resource.ID == userID {
		s.Add(Subject{Names: []string{e.Resource.Name}})
	}
	for _, r := range e.Related {
		if r.Type == "user" && r.ID == userID {
			s.Add(Subject{Names: []string{r.Name}})
		}
	}
	return s
}

// MinMention is the shortest value replaced where it is mentioned inside
// free text; shorter ones are replaced only where they are a field's whole
// value, so that a two-letter name does not turn other words into
// pseudonyms.
const MinMention = 3

// Replacement is a subject and the pseudonym their values become.
type Replacement struct {
	Subject   Subject
	Pseudonym Pseudonym
}

// Text returns s with the subject's emails, names and IP addresses
// replaced by the pseudonym's: a whole value equal to one of them at once,
// and mentions of MinMention characters or more inside it. Emails go
// first, since they may contain a name.
func (r Replacement) Text(s string) string {
	if s == "" {
		return s
	}
	for _, set := range []struct {
		olds []string
		nu   string
	}{{r.Subject.Emails, r.Pseudonym.Email}, {r.Subject.Names, r.Pseudonym.Name}, {r.Subject.IPs, r.Pseudonym.IP}} {
		if slices.Contains(set.olds, s) {
			return set.nu
		}
	}
	for _, set := range []struct {
		olds []string
		nu   string
	}{{r.Subject.Emails, r.Pseudonym.Email}, {r.Subject.Names, r.Pseudonym.Name}, {r.Subject.IPs, r.Pseudonym.IP}} {
		for _, o := range set.olds {
			if len(o) >= MinMention {
				s = strings.ReplaceAll(s, o, set.nu)
			}
		}
	}
	return s
}

// Result says what an anonymization changed, without the personal data.
type Result struct {
	UserID         string `json:"user_id"`
	Pseudonym      string `json:"pseudonym"`
	EntriesUpdated int64  `json:"entries_updated"`
	ReportsUpdated int64  `json:"reports_updated"`
	AlertsUpdated  int64  `json:"alerts_updated"`
	// ArchivedMonthsRewritten and ArchivedEntriesUpdated count the
	// archived months written anew and the entries changed in them;
	// ArchiveFilesRemoved the other archive files (exports, report files,
	// backups) deleted because they mentioned the person.
	ArchivedMonthsRewritten int64 `json:"archived_months_rewritten"`
	ArchivedEntriesUpdated  int64 `json:"archived_entries_updated"`
	ArchiveFilesRemoved     int64 `json:"archive_files_removed"`
	// RemovedArchiveFiles names them ("backup/<sha256>.ndjson.gz", ...).
	RemovedArchiveFiles []string `json:"removed_archive_files"`
}

// String renders the result for logs.
func (r Result) String() string {
	return fmt.Sprintf("user %s: %d entries, %d reports and %d alerts anonymized; %d archived entries in %d months rewritten, %d archive files removed",
		r.UserID, r.EntriesUpdated, r.ReportsUpdated, r.AlertsUpdated, r.ArchivedEntriesUpdated, r.ArchivedMonthsRewritten, r.ArchiveFilesRemoved)
}

// Mentioned reports whether b holds one of the subject's names or emails
// of MinMention characters or more, or one of their IP addresses: the
// test for an archive file that cannot be rewritten entry by entry.
func (r Replacement) Mentioned(b []byte) bool {
	for _, set := range [][]string{r.Subject.Emails, r.Subject.Names, r.Subject.IPs} {
		for _, v := range set {
			if len(v) >= MinMention && bytes.Contains(b, []byte(v)) {
				return true
			}
		}
	}
	return false
}

// Apply replaces r's values in e's personal fields (those the chain holds
// by digest: the actor's name and email, the resource's and related
// names, changed values, the address, the note and the details), drops the
// location derived from a replaced address, lists the fields it changed in
// e's chain link, and returns their paths. An entry without r's values is
// left as it was.
//
// An IP address is the person's only where they acted: in the entries of
// others, which may share it (one office, one proxy), it stays.
func (r Replacement) Apply(e *activity.Event) []string {
	if e.Actor.ID != r.Subject.UserID {
		r = r.WithoutAddresses()
	}
	var changed []string
	set := func(path string, v *string) {
		if n := r.Text(*v); n != *v {
			*v = n
			changed = append(changed, path)
		}
	}
	set("actor.email", &e.Actor.Email)
	set("actor.name", &e.Actor.Name)
	set("resource.name", &e.Resource.Name)
	for i := range e.Related {
		set("related."+strconv.Itoa(i)+".name", &e.Related[i].Name)
	}
	for i := range e.Changes {
		set("changes."+strconv.Itoa(i)+".before", &e.Changes[i].Before)
		set("changes."+strconv.Itoa(i)+".after", &e.Changes[i].After)
	}
	if e.Context.IP != "" && slices.Contains(r.Subject.IPs, e.Context.IP) {
		e.Context.IP, e.Context.Location = r.Pseudonym.IP, nil
		changed = append(changed, "context.ip")
	}
	set("note", &e.Note)
	if len(e.Details) > 0 {
		touched := false
		for k, v := range e.Details {
			e.Details[k] = r.Value(v, &touched)
		}
		if touched {
			changed = append(changed, "details")
		}
	}
	if e.Chain != nil {
		for _, p := range changed {
			if !slices.Contains(e.Chain.Anonymized, p) {
				e.Chain.Anonymized = append(e.Chain.Anonymized, p)
			}
		}
	}
	return changed
}

// WithoutAddresses returns r without the subject's IP addresses, for
// texts that are not the subject's own actions.
func (r Replacement) WithoutAddresses() Replacement {
	r.Subject.IPs = nil
	return r
}

// Value replaces r's values in the strings of a decoded JSON value, in
// place where it can, sets *touched when it changed one, and returns it.
func (r Replacement) Value(v any, touched *bool) any {
	switch v := v.(type) {
	case string:
		n := r.Text(v)
		*touched = *touched || n != v
		return n
	case map[string]any:
		for k, x := range v {
			v[k] = r.Value(x, touched)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = r.Value(x, touched)
		}
		return v
	}
	return v
}
