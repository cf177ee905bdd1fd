package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dealreg/dealreg/app"
)

// allowPrivateWebhooks is serve's --allow-private-webhooks; smtpAddr,
// smtpFrom, smtpUser and smtpTLS its mail server (the password comes from
// DEALREG_SMTP_PASSWORD, never a flag that ps would show).
var (
	// publicURL is serve's --public-url, where e-mailed links point.
	publicURL                    string
	allowPrivateWebhooks         bool
	smtpAddr, smtpFrom, smtpUser string
	smtpTLS                      bool
)

// secretKeyFile holds the key that seals webhook signing secrets in the
// ledger; it stays beside the ledger, readable by its owner only, and is
// part of a backup of the data directory (docs/webhooks.md).
const secretKeyFile = "outbox.key"

// outboxConfig returns the outbox settings of serve on dataDir, creating
// the secret key on first use.
func outboxConfig(dataDir string) (app.OutboxConfig, error) {
	path := filepath.Join(dataDir, secretKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return app.OutboxConfig{}, err
		}
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return app.OutboxConfig{}, fmt.Errorf("outbox key: %w", err)
		}
	} else if err != nil {
		return app.OutboxConfig{}, fmt.Errorf("outbox key: %w", err)
	}
	if len(key) != 32 {
		return app.OutboxConfig{}, fmt.Errorf("outbox key %s: want 32 bytes, found %d", path, len(key))
	}
	return app.OutboxConfig{SecretKey: key, AllowPrivateTargets: allowPrivateWebhooks,
		SMTP: app.SMTPConfig{Addr: smtpAddr, From: smtpFrom, Username: smtpUser, Password: os.Getenv("DEALREG_SMTP_PASSWORD"), TLS: smtpTLS}}, nil
}
