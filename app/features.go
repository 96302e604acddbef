package app

import (
	"github.com/liveagent-bridge/liveagent/config"
)

// CheckFeatures returns a one-line error naming the first configured
// feature this build does not wire yet, so a binary refuses to run rather
// than silently ignoring it. Payload encryption (codec.enabled) is refused:
// running without it would write plaintext payloads the operator believes
// encrypted. The codec package plugs in through WithDataConverter.
func CheckFeatures(cfg *config.Config) error {
	if cfg.Codec.Enabled {
		return &config.FieldError{Key: "codec.enabled", Reason: "payload encryption is not wired into this binary yet; set it to false"}
	}
	return nil
}
