package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// The texts shown while waiting and on a transfer come from the settings
// when set (a locale's texts), placeholders filled in.
func TestConfiguredWaitingAndTransferTexts(t *testing.T) {
	h := newHarness(t)
	h.signalAt(time.Second, workflows.AgentEvent{EventID: "ev-1", EntryID: "rr-1", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "None", EstimatedWait: 3 * time.Minute})
	h.signalAt(2*time.Second, workflows.AgentEvent{EventID: "ev-2", EntryID: "qp-1", Kind: workflows.AgentQueuePosition, QueuePosition: 2})
	acceptEvents(h, 5*time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-10", EntryID: "pc-2", Kind: workflows.AgentLeft, SenderName: "Ann"})
	h.signalAt(11*time.Second, workflows.AgentEvent{EventID: "ev-11", EntryID: "rr-2", Kind: workflows.AgentRoutingResult, RoutingType: "Transfer", FailureType: "None"})
	h.signalAt(13*time.Second, workflows.AgentEvent{EventID: "ev-13", EntryID: "pc-3", Kind: workflows.AgentJoined, SenderName: "Bob", SenderRole: "Agent"})
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	in := testInput()
	st := &in.Request.Settings
	st.Greeting = "Bonjour !"
	st.WaitMessage = "Un conseiller vous répondra dans environ {minutes} minutes."
	st.QueuePositionMessage = "Vous êtes numéro {position} dans la file."
	st.TransferMessage = "Vous êtes transféré(e) vers un autre conseiller."
	st.AgentJoinedMessage = "Vous discutez maintenant avec {agent}."
	h.run(in)

	require.Equal(t, []string{
		"Un conseiller vous répondra dans environ 3 minutes.",
		"Vous êtes numéro 2 dans la file.",
		"Bonjour !",
		"Vous êtes transféré(e) vers un autre conseiller.",
		"Vous discutez maintenant avec Bob.",
	}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}
