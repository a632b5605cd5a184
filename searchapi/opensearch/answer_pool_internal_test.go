package opensearch

import "testing"

// TestAnswerPoolKeepsOnlyWhatItMay gives the pool a buffer it keeps, one
// larger than it keeps and none, and takes back only the first, empty.
func TestAnswerPoolKeepsOnlyWhatItMay(t *testing.T) {
	p := answerPool{keep: 1024}
	p.put(nil)
	p.put(make([]byte, 10, 4096))
	if b := p.get(); b != nil {
		t.Fatalf("the pool gave back a buffer of %d bytes it should not have kept", cap(b))
	}
	kept := append(make([]byte, 0, 1024), "an answer"...)
	p.put(kept)
	// sync.Pool may drop what it holds at any collection; within one
	// goroutine and no collection between, it gives back what it got.
	b := p.get()
	if b == nil {
		t.Skip("the pool dropped its buffer (a collection ran between put and get)")
	}
	if len(b) != 0 || cap(b) != 1024 || &b[:1][0] != &kept[:1][0] {
		t.Fatalf("got a buffer of len %d, cap %d; want the one put back, empty", len(b), cap(b))
	}
}
