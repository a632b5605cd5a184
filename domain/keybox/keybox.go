// Package keybox encrypts secrets at rest, such as license keys, with
// AES-256-GCM under the platform's secret key.
//
// Every sealed secret is bound to where it belongs by additional data (for
// a license key: its workspace and license), so a ciphertext copied to
// another row does not open. Each ciphertext is stored beside the id of the
// key that sealed it; keys passed to New as previous still open what they
// sealed, while new seals always use the current key, so the secret key can
// be rotated without rewriting every row at once.
package keybox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// Errors returned by Open. Neither carries any part of a key or a secret.
var (
	// ErrUnknownKey means the ciphertext was sealed with a key the box
	// does not hold.
	ErrUnknownKey = errors.New("keybox: sealed with a key this box does not hold")
	// ErrOpen means the ciphertext is damaged or bound to other data.
	ErrOpen = errors.New("keybox: ciphertext does not open with its key and binding")
)

// Box seals secrets with its current key and opens what its current and
// previous keys sealed. It is safe for concurrent use.
type Box struct {
	current string
	aeads   map[string]cipher.AEAD
}

// New returns a box that seals with key and also opens what the previous
// keys sealed. Every key must be KeySize bytes; the box keeps no reference
// to the slices passed in. It returns an error naming the bad key by its
// position, never by its value.
func New(key []byte, previous ...[]byte) (*Box, error) {
	b := &Box{aeads: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{key}, previous...) {
		if len(k) != KeySize {
			if i == 0 {
				return nil, fmt.Errorf("keybox: the key must be %d bytes, got %d", KeySize, len(k))
			}
			return nil, fmt.Errorf("keybox: previous key %d must be %d bytes, got %d", i, KeySize, len(k))
		}
		id := KeyID(k)
		if i == 0 {
			b.current = id
		}
		if _, ok := b.aeads[id]; ok {
			continue
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("keybox: prepare cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keybox: prepare GCM: %w", err)
		}
		b.aeads[id] = aead
	}
	return b, nil
}

// KeyID names a key without revealing it: the first 8 hex digits of the
// SHA-256 of the key.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// KeyID returns the id of the key new seals use.
func (b *Box) KeyID() string { return b.current }

// Seal encrypts secret under the current key with a fresh random nonce,
// bound to binding (see Binding). It returns the nonce followed by the
// ciphertext, and the id of the key to store beside it.
func (b *Box) Seal(secret, binding []byte) (ciphertext []byte, keyID string, err error) {
	aead := b.aeads[b.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(secret)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("keybox: read nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, secret, binding), b.current, nil
}

// Open decrypts what Seal returned, given the key id stored beside it and
// the same binding. It returns ErrUnknownKey for a key the box does not
// hold and ErrOpen for a damaged ciphertext or another binding.
func (b *Box) Open(ciphertext []byte, keyID string, binding []byte) ([]byte, error) {
	aead, ok := b.aeads[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	n := aead.NonceSize()
	if len(ciphertext) < n+aead.Overhead() {
		return nil, ErrOpen
	}
	secret, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], binding)
	if err != nil {
		return nil, ErrOpen
	}
	return secret, nil
}

// Binding joins the parts that say where a secret belongs (for example
// "license", a workspace id and a license id) into additional data. Each
// part is length-prefixed, so no two different lists of parts give the
// same binding.
func Binding(parts ...string) []byte {
	var out []byte
	for _, p := range parts {
		out = binary.BigEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

// String describes the box by its current key id only, so that printing a
// box never prints key material.
func (b *Box) String() string { return "keybox(" + b.current + ")" }

// GoString is String, for %#v.
func (b *Box) GoString() string { return b.String() }
