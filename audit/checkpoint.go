package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"
	"time"
)

// Checkpoint is a signed statement that a workspace's chain had the entry
// with sequence number Seq and hash Hash at CreatedAt.
type Checkpoint struct {
	WorkspaceID string    `json:"workspace_id"`
	Seq         int64     `json:"seq"`
	Hash        string    `json:"hash"`
	CreatedAt   time.Time `json:"created_at"`
	// KeyID names the signing key (see PublicKey.ID).
	KeyID string `json:"key_id"`
	// Signature is the Ed25519 signature of SignedText, in standard base64.
	Signature string `json:"signature"`
}

// SignedText is what a checkpoint's signature covers: five lines, each
// ending in a line feed: "fluxera-checkpoint-v1", the workspace id, the
// sequence number in decimal, the hash, and the time in UTC milliseconds
// (RFC 3339).
func (c Checkpoint) SignedText() []byte {
	return []byte("fluxera-checkpoint-v1\n" + c.WorkspaceID + "\n" + strconv.FormatInt(c.Seq, 10) + "\n" +
		c.Hash + "\n" + c.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") + "\n")
}

// Sign signs c with key, whose public key has the id keyID.
func (c *Checkpoint) Sign(key ed25519.PrivateKey, keyID string) {
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Millisecond)
	c.KeyID = keyID
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SignedText()))
}

// VerifySignature reports whether c's signature is valid under pub.
func (c Checkpoint) VerifySignature(pub ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, c.SignedText(), sig)
}

// PublicKey is a checkpoint signing key as it is published: its id, the
// key in PEM (SubjectPublicKeyInfo, as openssl reads it), when it was made
// and, once rotated out, when it stopped signing.
type PublicKey struct {
	ID        string            `json:"id"`
	Algorithm string            `json:"algorithm"`
	PEM       string            `json:"public_key_pem"`
	CreatedAt time.Time         `json:"created_at"`
	RetiredAt *time.Time        `json:"retired_at,omitempty"`
	Key       ed25519.PublicKey `json:"-"`
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewPublicKey describes pub for publication.
func NewPublicKey(pub ed25519.PublicKey, created time.Time, retired *time.Time) (PublicKey, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return PublicKey{}, fmt.Errorf("encode public key: %w", err)
	}
	return PublicKey{
		ID: KeyID(pub), Algorithm: "Ed25519", Key: pub,
		PEM:       string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		CreatedAt: created.UTC(), RetiredAt: retired,
	}, nil
}

// ParsePublicKey reads a key published as PEM.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an Ed25519 key")
	}
	return pub, nil
}

// MarshalJSON writes the checkpoint with its signed text beside it, so that
// an auditor can check the signature with openssl from the answer alone.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	type plain Checkpoint
	return json.Marshal(struct {
		plain
		SignedText string `json:"signed_text"`
	}{plain(c), string(c.SignedText())})
}
