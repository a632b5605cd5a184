package privacy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"

	activity "github.com/fluxera/activity"
)

// maxKnown bounds the people one Pseudonymizer replaces inside free text;
// beyond it, people are still replaced where they are named as actor,
// resource or related resource.
const maxKnown = 2000

// Pseudonymizer replaces people in one export or analysis with pseudonyms
// stable within it: a random key made for it alone, so that two exports
// cannot be joined on their pseudonyms. It is not safe for concurrent use.
type Pseudonymizer struct {
	key    []byte
	people map[string]*Replacement
	order  []string
}

// NewPseudonymizer returns a pseudonymizer with a fresh random key.
func NewPseudonymizer() *Pseudonymizer {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand does not fail
	return &Pseudonymizer{key: key, people: map[string]*Replacement{}}
}

// ID returns the pseudonymous id of a person's id: "user-" and a tag.
func (z *Pseudonymizer) ID(id string) string {
	if id == "" {
		return ""
	}
	return "user-" + z.tag(id)
}

// IP returns the pseudonymous address of an IP address, in 2001:db8::/32.
func (z *Pseudonymizer) IP(ip string) string {
	m := hmac.New(sha256.New, z.key)
	m.Write([]byte("ip\n" + ip))
	sum := m.Sum(nil)
	var a [16]byte
	a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
	copy(a[4:], sum[:12])
	return netip.AddrFrom16(a).String()
}

func (z *Pseudonymizer) tag(id string) string {
	m := hmac.New(sha256.New, z.key)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

// learn remembers a person, by id or, without one, by email, with a name
// and an email they go by, and returns their replacement.
func (z *Pseudonymizer) learn(id, name, email string) *Replacement {
	key := id
	if key == "" {
		key = "email:" + email
	}
	r, ok := z.people[key]
	if !ok {
		if len(z.people) >= maxKnown {
			p := PseudonymOf(z.key, key)
			return &Replacement{Subject: Subject{UserID: id, Names: []string{name}, Emails: []string{email}}, Pseudonym: p}
		}
		r = &Replacement{Subject: Subject{UserID: id}, Pseudonym: PseudonymOf(z.key, key)}
		z.people[key] = r
		z.order = append(z.order, key)
	}
	r.Subject.Add(Subject{Names: []string{name}, Emails: []string{email}})
	return r
}

// Entry pseudonymizes one entry of an export: every person named in it
// and every person met so far in the export is replaced by their
// pseudonym in the names, emails and free text, user ids by pseudonymous
// ids, and the address by a pseudonymous one, without its location. The
// fields replaced are listed in the entry's chain link.
func (z *Pseudonymizer) Entry(e *activity.Event, summary *string) {
	if e.Actor.ID != "" || e.Actor.Email != "" {
		z.learn(e.Actor.ID, e.Actor.Name, e.Actor.Email)
	}
	if e.Resource.Type == "user" && e.Resource.ID != "" {
		z.learn(e.Resource.ID, e.Resource.Name, "")
	}
	for _, r := range e.Related {
		if r.Type == "user" && r.ID != "" {
			z.learn(r.ID, r.Name, "")
		}
	}
	for _, key := range z.order {
		r := z.people[key].WithoutAddresses()
		r.Apply(e)
		if summary != nil {
			*summary = r.Text(*summary)
		}
	}
	e.Actor.ID = z.ID(e.Actor.ID)
	if e.Resource.Type == "user" {
		e.Resource.ID = z.ID(e.Resource.ID)
	}
	for i := range e.Related {
		if e.Related[i].Type == "user" {
			e.Related[i].ID = z.ID(e.Related[i].ID)
		}
	}
	if e.Context.IP != "" {
		e.Context.IP, e.Context.Location = z.IP(e.Context.IP), nil
		if e.Chain != nil && !slices.Contains(e.Chain.Anonymized, "context.ip") {
			e.Chain.Anonymized = append(e.Chain.Anonymized, "context.ip")
		}
	}
}

// JSON pseudonymizes a decoded JSON answer of an analysis: an object with
// an "email" names a person, whose id, name and email become their
// pseudonyms; then every object whose "id" is a person's, and every string
// equal to a person's name or email, is replaced too.
func (z *Pseudonymizer) JSON(v any) any {
	var collect func(v any)
	collect = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if email, ok := v["email"].(string); ok {
				id, _ := v["id"].(string)
				name, _ := v["name"].(string)
				z.learn(id, name, email)
			}
			for _, x := range v {
				collect(x)
			}
		case []any:
			for _, x := range v {
				collect(x)
			}
		}
	}
	collect(v)
	ids := map[string]bool{}
	for key := range z.people {
		ids[key] = true
	}
	var replace func(v any) any
	replace = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			if id, ok := v["id"].(string); ok && ids[id] {
				p := z.people[id].Pseudonym
				v["id"] = z.ID(id)
				if _, ok := v["name"]; ok {
					v["name"] = p.Name
				}
				if _, ok := v["email"]; ok {
					v["email"] = p.Email
				}
			}
			for k, x := range v {
				v[k] = replace(x)
			}
			return v
		case []any:
			for i, x := range v {
				v[i] = replace(x)
			}
			return v
		case string:
			for _, key := range z.order {
				r := z.people[key]
				if slices.Contains(r.Subject.Names, v) {
					return r.Pseudonym.Name
				}
				if slices.Contains(r.Subject.Emails, v) {
					return r.Pseudonym.Email
				}
			}
		}
		return v
	}
	return replace(v)
}
