package temporalclient

import (
	"fmt"
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/config"
)

// Keyring builds the payload keyring from cfg.Codec, or returns nil when
// codec.enabled is false. Errors are one line naming codec.keys or
// codec.active_key_id and never contain key material (config.Validate
// reports the same problems first).
func Keyring(cfg *config.Config) (*codec.Keyring, error) {
	if !cfg.Codec.Enabled {
		return nil, nil
	}
	ring, err := codec.ParseKeyring(cfg.Codec.ActiveKeyID, cfg.Codec.Keys)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ring, nil
}

// WithEncryption switches payload encryption on: the client's data converter
// (or the SDK default) is wrapped by codec.NewDataConverter and failure
// messages and stack traces are encrypted too (codec.NewFailureConverter).
// A nil ring (codec off) leaves the options unchanged. Every client and
// worker of a namespace must use the same keyring, or a superset while
// rotating.
func WithEncryption(ring *codec.Keyring) ClientOption {
	return func(o *client.Options) {
		if ring == nil {
			return
		}
		enc := codec.WithEncryption(*o, ring)
		o.DataConverter = enc.DataConverter
		o.FailureConverter = enc.FailureConverter
	}
}

// EncryptionOptions returns the client options cfg.Codec asks for: none when
// the codec is off, WithEncryption of its keyring when it is on.
func EncryptionOptions(cfg *config.Config) ([]ClientOption, error) {
	ring, err := Keyring(cfg)
	if err != nil || ring == nil {
		return nil, err
	}
	return []ClientOption{WithEncryption(ring)}, nil
}

// NewCodecHandler returns the codec endpoint of ring for an operator-facing
// server (the gateway mounts it on /codec/; it answers POST <prefix>/decode
// and <prefix>/encode under any prefix): codec.operator_token is required (a
// *config.FieldError naming it otherwise) and presented as
// "Authorization: Bearer <token>", browsers from codec.cors_origins may call
// it, and only the configured namespace is served.
func NewCodecHandler(cfg *config.Config, ring *codec.Keyring, logger *slog.Logger) (http.Handler, error) {
	if ring == nil {
		return nil, &config.FieldError{Key: "codec.enabled", Reason: "the codec endpoint needs codec.enabled and its keys"}
	}
	if cfg.Codec.OperatorToken == "" {
		return nil, &config.FieldError{Key: "codec.operator_token", Reason: "must be set when codec.enabled is true: it guards the codec endpoint (env " + config.EnvName("codec.operator_token") + ")"}
	}
	if logger == nil {
		logger = slog.Default()
	}
	h, err := codec.NewHandler(ring, codec.HandlerOptions{
		CORSOrigins: cfg.Codec.CORSOrigins,
		BearerToken: cfg.Codec.OperatorToken,
		Namespaces:  []string{cfg.Temporal.Namespace},
		Logger:      logger.With("component", "codec-endpoint"),
	})
	if err != nil {
		return nil, fmt.Errorf("codec endpoint: %w", err)
	}
	return h, nil
}
