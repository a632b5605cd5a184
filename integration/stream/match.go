package stream

import (
	"net/netip"
	"slices"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/integration"
	"github.com/fluxera/activity/searchapi"
)

// visible reports whether p may see e in the activity log: an event of
// p's workspace, and one of p's own unless p sees the whole workspace.
func visible(p activity.Principal, e activity.Event) bool {
	if e.WorkspaceID != p.WorkspaceID {
		return false
	}
	return p.SeesWorkspace() || (p.UserID != "" && e.Actor.ID == p.UserID)
}

// matches reports whether e passes f, a filter Validate has normalized,
// as the activity log's search would: each kind of filter given must
// match one of its values.
func matches(f searchapi.EventFilter, e activity.Event) bool {
	if len(f.Users) > 0 && !slices.Contains(f.Users, strings.ToLower(e.Actor.ID)) {
		return false
	}
	if len(f.Categories) > 0 && !slices.Contains(f.Categories, e.Category) {
		return false
	}
	if len(f.Actions) > 0 && !integration.MatchesAction(f.Actions, e.Action) {
		return false
	}
	if f.Outcome != "" && f.Outcome != e.Outcome {
		return false
	}
	if len(f.Resources) > 0 && !slices.ContainsFunc(f.Resources, func(r string) bool { return touches(e, r) }) {
		return false
	}
	if len(f.IPs) > 0 && !slices.ContainsFunc(f.IPs, func(r string) bool { return within(e.Context.IP, r) }) {
		return false
	}
	return true
}

// touches reports whether e's resource or a related one is of the type,
// and has the id, that r (type or type:id) names.
func touches(e activity.Event, r string) bool {
	typ, id, _ := strings.Cut(r, ":")
	is := func(res activity.Resource) bool {
		return res.Type == typ && (id == "" || strings.EqualFold(res.ID, id))
	}
	return is(e.Resource) || slices.ContainsFunc(e.Related, is)
}

// within reports whether ip is the address, or in the range, r.
func within(ip, r string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if p, err := netip.ParsePrefix(r); err == nil {
		return p.Contains(a)
	}
	b, err := netip.ParseAddr(r)
	return err == nil && b.Unmap() == a
}
