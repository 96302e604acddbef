package starter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// maxTrackedTypists bounds the coalescer's memory; beyond it, entries older
// than the refresh interval are dropped.
const maxTrackedTypists = 4096

// TypingResult is the answer to Typing.
type TypingResult struct {
	// Forwarded is false when a "typing" report was coalesced with one
	// forwarded to the session less than half the quiet time before (the
	// session already knows the user is typing).
	Forwarded bool
}

// typingCoalescer remembers, per user, when a "typing" report was last
// forwarded to the session. It lives in one process: with several gateways
// each coalesces its own reports, which costs a few more updates, never a
// wrong indicator (the session sends one "started" per typing spell).
type typingCoalescer struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// claim reports whether a typing report of userID at now must be forwarded
// (and records it as forwarded).
func (t *typingCoalescer) claim(userID string, now time.Time, refresh time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, ok := t.last[userID]; ok && now.Sub(at) < refresh {
		return false
	}
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	if len(t.last) >= maxTrackedTypists {
		for id, at := range t.last {
			if now.Sub(at) >= refresh {
				delete(t.last, id)
			}
		}
	}
	t.last[userID] = now
	return true
}

func (t *typingCoalescer) forget(userID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.last, userID)
}

// typingRefresh is how often a continuing typing spell is reported to the
// session: half its quiet time, so the session's auto stop never cuts a
// spell that is still being reported.
func (c *Client) typingRefresh() time.Duration {
	quiet := c.settings.TypingQuietTime
	if quiet <= 0 {
		quiet = workflows.DefaultTypingQuietTime
	}
	return quiet / 2
}

// Typing reports that the user is typing (or stopped). The session tells
// the agent "started" once per typing spell and "stopped" when typing is
// false, when the user's message is sent, or the configured quiet time
// after the last report. Reports of "typing" repeated within half the quiet
// time are answered here without reaching the session (Forwarded false), so
// reporting every keystroke costs the session no history. A session that is
// not active (no agent chatting) refuses with a *RejectedError.
func (c *Client) Typing(ctx context.Context, userID string, typing bool) (TypingResult, error) {
	if err := validateUserID(userID); err != nil {
		return TypingResult{}, err
	}
	if typing && !c.typing.claim(userID, time.Now(), c.typingRefresh()) {
		return TypingResult{}, nil
	}
	if !typing {
		c.typing.forget(userID)
	}
	if err := c.updateNoResult(ctx, userID, workflows.UpdateTyping, workflows.UserTyping{Typing: typing}); err != nil {
		if typing {
			c.typing.forget(userID) // the next report tries again
		}
		return TypingResult{}, err
	}
	return TypingResult{Forwarded: true}, nil
}

// Receipts reports that the user received (ReceiptDelivered) or read
// (ReceiptRead) agent messages, named by the ids of their deliveries; the
// session acknowledges them to Salesforce, batched. Ids the session did not
// deliver are refused with a *RejectedError; ids already acknowledged with
// that status (or read) are not sent again.
func (c *Client) Receipts(ctx context.Context, userID string, status workflows.ReceiptStatus, messageIDs []string) (workflows.ReceiptsResult, error) {
	if err := validateUserID(userID); err != nil {
		return workflows.ReceiptsResult{}, err
	}
	if status != workflows.ReceiptDelivered && status != workflows.ReceiptRead {
		return workflows.ReceiptsResult{}, invalid("status must be %q or %q", workflows.ReceiptDelivered, workflows.ReceiptRead)
	}
	if n := len(messageIDs); n == 0 || n > workflows.MaxReceiptIDs {
		return workflows.ReceiptsResult{}, invalid("messageIds must name 1 to %d agent messages, got %d", workflows.MaxReceiptIDs, n)
	}
	for _, id := range messageIDs {
		if err := validateMessageID(id); err != nil {
			return workflows.ReceiptsResult{}, err
		}
	}
	id := workflows.WorkflowID(userID)
	handle, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   workflows.UpdateReceipts,
		UpdateID:     "receipts-" + uuid.NewString(),
		Args:         []any{workflows.UserReceipts{Status: status, MessageIDs: messageIDs}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.ReceiptsResult
	if err == nil {
		if err = handle.Get(ctx, &res); err == nil {
			return res, nil
		}
	}
	return workflows.ReceiptsResult{}, c.updateError(workflows.UpdateReceipts, id, err)
}

// updateNoResult runs an update without a result to completion, under a
// fresh update id.
func (c *Client) updateNoResult(ctx context.Context, userID, name string, arg any) error {
	id := workflows.WorkflowID(userID)
	handle, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   name,
		UpdateID:     fmt.Sprintf("%s-%s", name, uuid.NewString()),
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		if err = handle.Get(ctx, nil); err == nil {
			return nil
		}
	}
	return c.updateError(name, id, err)
}
