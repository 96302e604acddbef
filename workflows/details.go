package workflows

import (
	"fmt"
	"strings"
	"time"
)

// DefaultOfflineMessage is what a user waiting when live agents go offline
// is told when Settings.OfflineMessage is empty.
const DefaultOfflineMessage = "Our agents are offline now, so nobody can join this chat. Please try again during business hours."

// Texts the workflow shows the user when the settings leave them empty, and
// the notices that have no setting.
const (
	defaultGreeting          = "An agent has joined the chat."
	defaultTimeoutMessage    = "Sorry, no agent is available right now. Please try again later."
	defaultAgentEndedMessage = "The agent has ended the chat."
	routingFailedMessage     = "Sorry, we could not connect you to an agent. Please try again later."
	noRoutingResultMessage   = "Sorry, we could not reach an agent queue. Please try again later."
	refusedMessage           = "Sorry, the live chat service could not take this request. Please try again later."
	failedMessage            = "Sorry, the chat with the agent stopped because of a technical problem."
	transferFailedMessage    = "The transfer to another agent did not go through. Please wait while we find someone."
	inactiveMessage          = "This chat is inactive because nobody wrote for a while. Send a message to continue it."
	inactiveEndedMessage     = "The chat was closed after a period of inactivity."
	idleMessage              = "This chat has ended because nobody wrote for a while."
	transferMessage          = "You are being transferred to another agent. Please wait."
	sendFailedMessage        = "Sorry, one of your messages could not be delivered to the agent."
	fileTooLargeFormat       = "Sorry, your file %q is too large for the agent's chat; it was not delivered."
	fileTypeRefusedFormat    = "Sorry, the agent's chat does not accept files like %q; it was not delivered."
	fileUploadFailedFormat   = "Sorry, your file %q did not reach the agent after all."
	agentJoinedFormat        = "You are now chatting with %s."
	queuePositionFormat      = "You are number %d in the queue."
	attachmentFailedFormat   = "The agent shared the file %q, but it could not be downloaded."
)

// estimatedWaitText renders Salesforce's estimated wait time for the user.
func estimatedWaitText(d time.Duration) string {
	if d < time.Minute {
		return "An agent will be with you in less than a minute."
	}
	minutes := int((d + 30*time.Second) / time.Minute)
	if minutes == 1 {
		return "An agent will be with you in about 1 minute."
	}
	return fmt.Sprintf("An agent will be with you in about %d minutes.", minutes)
}

// detailsMarkdown is the "current details" shown in the Temporal Web UI.
func (s *session) detailsMarkdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**State:** %s", s.state())
	if s.draining {
		b.WriteString(" (continuing as new)")
	}
	if s.closeReason != "" {
		fmt.Fprintf(&b, " · **Reason:** %s", s.closeReason)
	}
	fmt.Fprintf(&b, "\n\n**User:** %s · **Topic:** %s\n\n", s.req.UserID, s.req.Topic)
	if s.conversationID != "" {
		fmt.Fprintf(&b, "**Conversation:** `%s`\n\n", s.conversationID)
	}
	if s.agentName != "" {
		fmt.Fprintf(&b, "**Agent:** %s\n\n", s.agentName)
	}
	if s.state() == StateWaiting {
		if s.queuePosition > 0 {
			fmt.Fprintf(&b, "**Queue position:** %d\n\n", s.queuePosition)
		}
		if s.estimatedWait > 0 {
			fmt.Fprintf(&b, "**Estimated wait:** %s\n\n", s.estimatedWait)
		}
	}
	user, agent := s.countMessages()
	fmt.Fprintf(&b, "**Messages:** %d from the user, %d from the agent", user, agent)
	if n := len(s.outbox.items); n > 0 {
		fmt.Fprintf(&b, ", %d waiting to be sent", n)
	}
	b.WriteString("\n")
	return b.String()
}
