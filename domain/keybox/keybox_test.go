package keybox_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fluxera/activity/domain/keybox"
)

func mustKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, keybox.KeySize)
	if _, err := rand.Read(k); err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustBox(tb testing.TB, key []byte, previous ...[]byte) *keybox.Box {
	tb.Helper()
	b, err := keybox.New(key, previous...)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	box := mustBox(t, mustKey(t))
	secret := []byte("XXXX-YYYY-ZZZZ-1234")
	binding := keybox.Binding("license", "ws-1", "lic-1")
	sealed, keyID, err := box.Seal(secret, binding)
	if err != nil {
		t.Fatal(err)
	}
	if keyID != box.KeyID() || len(keyID) != 8 {
		t.Errorf("key id = %q, want the box's 8-digit id %q", keyID, box.KeyID())
	}
	if bytes.Contains(sealed, secret) {
		t.Error("the ciphertext contains the secret")
	}
	again, _, _ := box.Seal(secret, binding)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one secret are equal; the nonce is not fresh")
	}
	got, err := box.Open(sealed, keyID, binding)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret) {
		t.Errorf("Open() = %q, want %q", got, secret)
	}
}

func TestOpenRefuses(t *testing.T) {
	key := mustKey(t)
	box := mustBox(t, key)
	secret := []byte("AAAA-BBBB-CCCC")
	binding := keybox.Binding("license", "ws-1", "lic-1")
	sealed, keyID, err := box.Seal(secret, binding)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name       string
		box        *keybox.Box
		ciphertext []byte
		keyID      string
		binding    []byte
		want       error
	}{
		{"other license", box, sealed, keyID, keybox.Binding("license", "ws-1", "lic-2"), keybox.ErrOpen},
		{"other workspace", box, sealed, keyID, keybox.Binding("license", "ws-2", "lic-1"), keybox.ErrOpen},
		{"parts shifted", box, sealed, keyID, keybox.Binding("license", "ws-1l", "ic-1"), keybox.ErrOpen},
		{"no binding", box, sealed, keyID, nil, keybox.ErrOpen},
		{"tampered", box, flipped, keyID, binding, keybox.ErrOpen},
		{"truncated", box, sealed[:10], keyID, binding, keybox.ErrOpen},
		{"empty", box, nil, keyID, binding, keybox.ErrOpen},
		{"unknown key id", box, sealed, "00000000", binding, keybox.ErrUnknownKey},
		{"other box", mustBox(t, mustKey(t)), sealed, keyID, binding, keybox.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.ciphertext, tt.keyID, tt.binding)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open() error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open() returned %q with an error", got)
			}
			if strings.Contains(err.Error(), string(secret)) || strings.Contains(err.Error(), string(key)) {
				t.Error("the error contains the secret or the key")
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	binding := keybox.Binding("license", "ws", "lic")
	old := mustBox(t, oldKey)
	sealedOld, oldID, _ := old.Seal([]byte("old secret"), binding)

	rotated := mustBox(t, newKey, oldKey)
	if rotated.KeyID() == oldID || rotated.KeyID() != keybox.KeyID(newKey) {
		t.Fatalf("rotated box seals with %q, want the new key's id %q", rotated.KeyID(), keybox.KeyID(newKey))
	}
	got, err := rotated.Open(sealedOld, oldID, binding)
	if err != nil || string(got) != "old secret" {
		t.Fatalf("the previous key no longer opens: %q, %v", got, err)
	}
	sealedNew, newID, _ := rotated.Seal([]byte("new secret"), binding)
	if newID != keybox.KeyID(newKey) {
		t.Errorf("new seal uses key %q, want the current key %q", newID, keybox.KeyID(newKey))
	}
	if _, err := old.Open(sealedNew, newID, binding); !errors.Is(err, keybox.ErrUnknownKey) {
		t.Errorf("a box without the new key opened its ciphertext: %v", err)
	}
	// A previous key repeated, or equal to the current one, is harmless.
	if _, err := keybox.New(newKey, oldKey, oldKey, newKey); err != nil {
		t.Errorf("repeated keys: %v", err)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	short := []byte("0123456789abcdef")
	tests := []struct {
		name     string
		key      []byte
		previous [][]byte
	}{
		{"empty key", nil, nil},
		{"short key", short, nil},
		{"long key", append(mustKey(t), 1), nil},
		{"short previous key", mustKey(t), [][]byte{short}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keybox.New(tt.key, tt.previous...)
			if err == nil {
				t.Fatal("New() accepted a key that is not 32 bytes")
			}
			if strings.Contains(err.Error(), string(short)) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}

func TestPrintingShowsNoKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xAB}, keybox.KeySize)
	box := mustBox(t, key)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, box)
		if strings.Contains(strings.ToLower(out), "abab") || strings.Contains(out, string(key)) {
			t.Errorf("%s of a box shows key material: %s", format, out)
		}
	}
}
