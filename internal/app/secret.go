package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxera/activity/domain/keybox"
)

// KeyBox builds the box that encrypts license keys from the configured
// secret key, or from the key file, which is created with a new random key
// on first start so that a local installation works out of the box.
func (m *Main) KeyBox() (*keybox.Box, error) {
	key, err := m.secretKey()
	if err != nil {
		return nil, err
	}
	var previous [][]byte
	for i, s := range m.Config.PreviousSecretKeys {
		k, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("FLUXERA_PREVIOUS_SECRET_KEYS entry %d: %w", i+1, err)
		}
		previous = append(previous, k)
	}
	return keybox.New(key, previous...)
}

func (m *Main) secretKey() ([]byte, error) {
	if m.Config.SecretKey != "" {
		k, err := decodeKey(m.Config.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("FLUXERA_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	path := m.Config.SecretKeyFile
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("generate secret key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create secret key folder: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) { // another process was first
			return m.secretKey()
		}
		if err != nil {
			return nil, fmt.Errorf("create secret key file: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("write secret key file: %w", werr)
		}
		m.Log.WithField("component", "main").WithField("path", path).Warn("Created a new secret key file for license keys; keep it safe and back it up, or set FLUXERA_SECRET_KEY.")
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	k, err := decodeKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not base64")
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("the key must be 32 bytes, not %d", len(k))
	}
	return k, nil
}
