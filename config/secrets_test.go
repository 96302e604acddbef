package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const longSecret = "0123456789abcdef0123456789abcdef" // exactly MinSecretLen

func TestSecretsHygiene(t *testing.T) {
	webhook := func(c *Config) {
		c.Delivery.Mode, c.Delivery.WebhookURL, c.Delivery.WebhookSecret = DeliveryWebhook, "https://assistant.example.com/hook", longSecret
	}
	tests := []struct {
		name, key, reason string
		mutate            func(*Config)
	}{
		{"short bearer token", "gateway.bearer_token", "at least 32", func(c *Config) { c.Gateway.BearerToken = "s3cret-token" }},
		{"short operator token", "codec.operator_token", "at least 32", func(c *Config) { c.Codec.OperatorToken = "operator" }},
		{"short webhook secret", "delivery.webhook_secret", "at least 32", func(c *Config) { webhook(c); c.Delivery.WebhookSecret = "s" }},
		{"short link secret", "attachments.link_secret", "at least 32", func(c *Config) { c.Attachments.LinkSecret = "operator" }},
		{"link lifetime too short", "attachments.link_ttl", "at least 1m", func(c *Config) { c.Attachments.LinkTTL = 0 }},
		{"operator token equals bearer token", "codec.operator_token", "differ", func(c *Config) {
			c.Gateway.BearerToken, c.Codec.OperatorToken = longSecret, longSecret
		}},
		{"plain http webhook to another host", "delivery.webhook_url", "https", func(c *Config) {
			webhook(c)
			c.Delivery.WebhookURL = "http://assistant.example.com/hook"
		}},
		{"plain http webhook to a private address", "delivery.webhook_url", "https", func(c *Config) {
			webhook(c)
			c.Delivery.WebhookURL = "http://10.0.0.5:8080/hook"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(c)
			err := c.Validate()
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "want a *FieldError, got %v", err)
			assert.Equal(t, tt.key, fe.Key)
			assert.Contains(t, err.Error(), tt.reason)
			assert.NotContains(t, err.Error(), "\n")
			for _, secret := range []string{"s3cret-token", "operator", longSecret} {
				if tt.key != "delivery.webhook_url" {
					assert.NotContains(t, strings.TrimPrefix(err.Error(), "config: "+tt.key), secret)
				}
			}
		})
	}
}

func TestSecretsAccepted(t *testing.T) {
	c := validConfig(t)
	c.Gateway.BearerToken = longSecret
	c.Codec.OperatorToken = longSecret + "-operator"
	c.Delivery.Mode, c.Delivery.WebhookSecret = DeliveryWebhook, longSecret
	for _, url := range []string{"https://assistant.example.com/hook", "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9/h"} {
		c.Delivery.WebhookURL = url
		require.NoError(t, c.Validate(), url)
	}
}

// Links to stored files are signed only with attachments.link_secret set.
func TestLinkSigner(t *testing.T) {
	c := validConfig(t)
	s, err := c.LinkSigner()
	require.NoError(t, err)
	assert.Nil(t, s, "no secret: links need the bearer token")
	c.Attachments.LinkSecret = longSecret
	require.NoError(t, c.Validate())
	s, err = c.LinkSigner()
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Contains(t, s.Sign("https://gw.example/v1/attachments/abc", "abc"), "sig=")
}
