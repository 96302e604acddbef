package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/gateway/openapitest"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// contract checks a test's real gateway answers and webhook deliveries
// against the gateway's OpenAPI document.
type contract struct {
	doc      *openapitest.Document
	mu       sync.Mutex
	failures []error
}

func newContract(t *testing.T) *contract {
	t.Helper()
	doc, err := openapitest.Load()
	require.NoError(t, err)
	return &contract{doc: doc}
}

// wrap validates every exchange with h; failures are kept for check.
func (c *contract) wrap(h http.Handler) http.Handler {
	return c.doc.Middleware(h, func(err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.failures = append(c.failures, err)
	})
}

// serveChecked serves the gateway h on loopback with every answer checked
// against the OpenAPI document: when t ends the server is closed and each
// answer that broke the document fails t.
func serveChecked(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	c := newContract(t)
	srv := httptest.NewServer(c.wrap(h))
	t.Cleanup(func() {
		srv.Close() // every exchange has been validated
		c.check(t, nil)
	})
	return srv
}

// check reports the answers that broke the document (call it once the
// server is closed: every exchange has then been validated), and validates
// deliveries as the webhook sink would POST them; it returns the kinds
// seen.
func (c *contract) check(t *testing.T, deliveries []workflows.Delivery) map[string]bool {
	t.Helper()
	c.mu.Lock()
	for _, err := range c.failures {
		t.Errorf("gateway answer breaks the OpenAPI document: %v", err)
	}
	c.mu.Unlock()
	kinds := map[string]bool{}
	for _, d := range deliveries {
		body, err := json.Marshal(activities.NewWebhookPayload(d))
		require.NoError(t, err)
		if err := c.doc.ValidateSchema("WebhookPayload", body); err != nil {
			t.Errorf("delivery %s (%s) breaks the OpenAPI document: %v", d.ID, d.Kind, err)
		}
		kinds[string(d.Kind)] = true
	}
	return kinds
}
