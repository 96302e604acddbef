package e2e

import (
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// A transfer that stalls (the agent leaves for a transfer, no agent is ever
// found and Salesforce sends no failure: the emulator's StallTransfer) is
// given up after Settings.TransferTimeout: the user is told the transfer
// failed and waits again, and the accept timeout, run again from then,
// ends the session; Salesforce's conversation is closed. A subtest of
// TestFailurePathsAreTold (its stack).
func testStalledTransfer(t *testing.T, s *stack, base workflows.Settings) {
	const user = "u-transfer-stalls"
	settings := base
	settings.TransferTimeout = 2 * time.Second
	// Long enough that the first accept, made at once, reaches the session
	// before its first accept timer runs out even on a loaded machine: the
	// timer runs again from the failure, and that run is what is tested.
	settings.AcceptTimeout = 10 * time.Second
	settings.TransferFailedMessage = "The transfer did not go through. Please wait for the next agent."
	settings.TimeoutMessage = "Nobody could take this chat. Please try again later."
	testRequeuedThenTimeout(t, s, settings, user, s.emu.StallTransfer)
}

// noticesOf are the notices with text delivered to user.
func noticesOf(s *stack, user, text string) []workflows.Delivery {
	var out []workflows.Delivery
	for _, d := range deliveriesOf(s, user, workflows.DeliverSystem) {
		if d.Text == text {
			out = append(out, d)
		}
	}
	return out
}
