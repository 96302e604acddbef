package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"

	"time"
)

// A burst of user messages over Salesforce's per-conversation rate reaches
// the agent in order, each once: the bridge honours the 429's Retry-After
// and never drops or reorders a message.
func TestBurstOverSalesforceRateArrivesInOrder(t *testing.T) {
	s := newStackWith(t, emulator.Config{MessageRate: emulator.MessageRate{Count: 3, Window: 2 * time.Second}})
	const user = "u-burst"
	_, conv := s.startAccepted(t, user, "Many questions")
	ctx := context.Background()

	var want []string
	for i := range 8 {
		text := fmt.Sprintf("question %d", i+1)
		want = append(want, text)
		res, err := s.starter.SendMessage(ctx, user, fmt.Sprintf("q-%d", i+1), text)
		require.NoError(t, err)
		assert.Equal(t, workflows.UpdateSent, res.Status)
	}
	var got []string
	for _, e := range s.emu.Transcript(conv) {
		if e.Role == "EndUser" && e.Attachment == nil && e.Text != "Many questions" {
			got = append(got, e.Text)
		}
	}
	assert.Equal(t, want, got, "every message once, in order")
	assert.Positive(t, s.emu.Stats().RateLimited, "the burst went over the rate")
}
