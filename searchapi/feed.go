package searchapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	activity "github.com/fluxera/activity"
)

// Feed page sizes.
const (
	FeedDefaultLimit = 100
	FeedMaxLimit     = 1000
)

// FeedPage is one page of the pull feed: entries in publication order and
// the cursor that reads on from the last of them.
type FeedPage struct {
	Entries []Entry `json:"entries"`
	// Next is passed as after to read on; it moves on even when a page has
	// no entry the caller may see.
	Next string `json:"next"`
	// More says the page was full: read on at once rather than after the
	// polling interval.
	More bool `json:"more"`
}

// Feed is the pull feed of a workspace's activity in publication order,
// for SIEMs that poll: each entry once, none skipped.
type Feed struct {
	reader ChainReader
	key    []byte
}

// feedLabel separates the feed cursor key from other uses of the secret.
const feedLabel = "fluxera activity feed cursor v1"

// NewFeed returns the feed read through reader, whose cursors are signed
// with a key derived from secret, so that every instance sharing the secret
// accepts the others' cursors, and a cursor stays good across restarts.
func NewFeed(reader ChainReader, secret []byte) *Feed {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(feedLabel))
	return &Feed{reader: reader, key: m.Sum(nil)}
}

// feedCursor is the place a feed cursor stands for: the workspace and the
// last sequence number given.
type feedCursor struct {
	Workspace string `json:"w"`
	Seq       int64  `json:"s"`
}

var errFeedCursor = activity.Errorf(activity.EINVALID, "after",
	"after is not a cursor this feed gave to this workspace, or it was altered; start without after to read from the beginning")

func (f *Feed) encode(c feedCursor) string {
	b, _ := json.Marshal(c)
	m := hmac.New(sha256.New, f.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (f *Feed) decode(text, workspace string) (int64, error) {
	if text == "" {
		return 0, nil
	}
	body, sig, ok := strings.Cut(text, ".")
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil {
		return 0, errFeedCursor
	}
	m := hmac.New(sha256.New, f.key)
	m.Write(b)
	if !hmac.Equal(m.Sum(nil), mac) {
		return 0, errFeedCursor
	}
	var c feedCursor
	if err := json.Unmarshal(b, &c); err != nil || c.Workspace != workspace || c.Seq < 0 {
		return 0, errFeedCursor
	}
	return c.Seq, nil
}

// Read returns up to limit entries published after the cursor after (from
// the first entry when it is empty), in publication order. It gives only
// the entries up to the first one not yet searchable, so that an entry
// published but still on its way to the index is given on a later poll,
// never skipped. A caller who may not see the whole workspace gets only
// its own entries, while the cursor moves past the others. It returns
// EINVALID naming after for a cursor that is forged, altered or another
// workspace's, and naming limit for a limit out of range.
func (f *Feed) Read(ctx context.Context, p activity.Principal, after string, limit int) (FeedPage, error) {
	if limit == 0 {
		limit = FeedDefaultLimit
	}
	if limit < 1 || limit > FeedMaxLimit {
		return FeedPage{}, activity.Errorf(activity.EINVALID, "limit", "limit must be between 1 and %d", FeedMaxLimit)
	}
	seq, err := f.decode(after, p.WorkspaceID)
	if err != nil {
		return FeedPage{}, err
	}
	entries, err := f.reader.ChainEntries(ctx, ChainQuery{WorkspaceID: p.WorkspaceID, AfterSeq: seq, Limit: limit})
	if err != nil {
		return FeedPage{}, err
	}
	page := FeedPage{Entries: []Entry{}}
	next := seq
	for _, e := range entries {
		if e.Chain.Seq <= next {
			continue // a second entry claiming a place already given
		}
		if e.Chain.Seq != next+1 {
			break // not yet searchable: wait for it
		}
		next = e.Chain.Seq
		if p.SeesWorkspace() || e.Actor.ID == p.UserID {
			page.Entries = append(page.Entries, e)
		}
	}
	page.Next = f.encode(feedCursor{Workspace: p.WorkspaceID, Seq: next})
	page.More = len(entries) == limit && next > seq
	return page, nil
}
