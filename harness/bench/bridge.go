package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// bridge is what a phase drives: the durable bridge (Temporal worker) or the
// baseline. Agent-side actions go through the emulator for both.
type bridge interface {
	// open starts a session for user; the greeting arrives at the receiver
	// once an agent accepted.
	open(ctx context.Context, user string) error
	// sendUser sends the user's text and returns once the bridge reports it
	// handed to Salesforce.
	sendUser(ctx context.Context, user, text string) error
	// close ends the user's session (Salesforce side included).
	close(ctx context.Context, user string) error
}

// durableBridge drives the Temporal workflow through starter.Client, as an
// assistant would.
type durableBridge struct {
	starter *starter.Client
	tc      client.Client
	topic   string
}

func (b *durableBridge) open(ctx context.Context, user string) error {
	_, err := b.starter.Start(ctx, starter.StartRequest{
		UserID: user, Topic: b.topic, Locale: "en_US",
		Description: "Load benchmark session " + user,
	})
	return err
}

func (b *durableBridge) sendUser(ctx context.Context, user, text string) error {
	res, err := b.starter.SendMessage(ctx, user, "m-"+uuid.NewString(), text)
	if err != nil {
		return err
	}
	if res.Status != workflows.UpdateSent {
		return fmt.Errorf("send message: status %q, want %q", res.Status, workflows.UpdateSent)
	}
	return nil
}

func (b *durableBridge) close(ctx context.Context, user string) error {
	res, err := b.starter.Close(ctx, user, "close-"+uuid.NewString(), "load benchmark finished")
	if errors.Is(err, starter.ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	if res.Status != workflows.UpdateClosed {
		return fmt.Errorf("close: status %q, want %q", res.Status, workflows.UpdateClosed)
	}
	// The update returns once the close is decided; the run finishes after
	// the Salesforce side is ended and the user told. Wait for that, so no
	// session work spills into the next size (or outlives the worker).
	var result workflows.SessionResult
	if err := b.tc.GetWorkflow(ctx, workflows.WorkflowID(user), "").Get(ctx, &result); err != nil {
		return fmt.Errorf("wait for the session to finish: %w", err)
	}
	return nil
}

// retryTransient retries fn on errors other than invalid requests until ctx
// ends, with a short backoff: the benchmark measures, it does not give up on
// a transient gRPC error under load.
func retryTransient(ctx context.Context, fn func(context.Context) error) error {
	backoff := 200 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || errors.Is(err, starter.ErrInvalid) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}
